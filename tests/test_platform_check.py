"""The start-up check before Qt: a missing library or a dead display is exit code 1 and a
message in plain words, never Qt's abort (SIGABRT, exit code 134)."""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from faceapp.gui import app, platform_check
from faceapp.gui.platform_check import check, display_answers, explain

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland only")


@pytest.fixture
def desktop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, str]]:
    """An X11 session whose display answers, no Wayland; desktop notifications are recorded."""
    for var in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "QT_QPA_PLATFORM_PLUGIN_PATH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setattr(platform_check, "display_answers", lambda display: True)
    monkeypatch.setattr(platform_check, "missing_libraries", lambda platform: [])
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        platform_check, "notify", lambda title, body, v=None: shown.append((title, body))
    )
    return shown


def test_a_missing_library_exits_1_with_the_install_commands(
    desktop: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    missing = ["libxcb-cursor.so.0", "libxcb-icccm.so.4"]
    monkeypatch.setattr(platform_check, "missing_libraries", lambda platform: missing)
    assert app.main(["--quit-after-show"]) == 1
    err = capsys.readouterr().err
    assert "missing libraries: libxcb-cursor.so.0, libxcb-icccm.so.4" in err
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4" in err
    assert "sudo dnf install xcb-util-cursor xcb-util-wm" in err
    assert "sudo pacman -S xcb-util-cursor xcb-util-wm" in err
    assert "sudo zypper install libxcb-cursor0 libxcb-icccm4" in err
    assert "faceapp-cli restore" in err
    [(title, body)] = desktop
    assert "cannot open" in title and "libxcb-cursor0" in body
    from faceapp import diagnostics

    assert "sudo apt install libxcb-cursor0" in diagnostics.log_path().read_text(encoding="utf-8")
    diagnostics.close_logging()


def test_an_unknown_library_still_gets_a_hint() -> None:
    lines = platform_check.install_commands(["libfoo.so.3"])
    assert lines == ["  libfoo.so.3: install the package of your system that provides this file."]


def test_a_missing_plugin_file_says_to_reinstall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform_check, "plugin_file", lambda platform: None)
    [missing] = platform_check.missing_libraries("xcb")
    assert platform_check.install_commands([missing]) == [
        f"  {missing}: PySide6 is incomplete; reinstall faceapp."
    ]


def test_wayland_is_used_when_x11_cannot_start(
    desktop: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        platform_check, "missing_libraries", lambda p: ["libxcb-cursor.so.0"] if p == "xcb" else []
    )
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-7")
    (tmp_path / "wayland-7").touch()
    verdict = check()
    assert verdict.ok and verdict.platform == "wayland"
    assert app.check_platform() == ["-platform", "wayland"]
    assert "QT_QPA_PLATFORM" not in os.environ  # programs the app starts keep their own choice
    assert desktop == []


def test_notify_send_shows_the_message_on_the_desktop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "args"
    fake = tmp_path / "bin" / "notify-send"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
    assert platform_check.notify("faceapp cannot open its window", "line one\nline two")
    assert record.read_text().splitlines() == [
        "--app-name=faceapp",
        "--urgency=critical",
        "faceapp cannot open its window",
        "line one",
        "line two",
    ]
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no session bus there: no notification
    record.unlink()
    assert not platform_check.notify("title", "body") and not record.exists()


def test_both_usable_leaves_the_choice_to_qt(
    desktop: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", str(tmp_path / "wayland-1"))  # an absolute socket path
    (tmp_path / "wayland-1").touch()
    verdict = check()
    assert verdict.ok and verdict.platform is None
    assert [c.name for c in verdict.candidates if c.usable] == ["xcb", "wayland"]


def test_a_wayland_name_without_its_socket_is_not_usable(
    desktop: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-3")
    verdict = check()
    assert not verdict.ok
    text = explain(verdict)
    assert "the Wayland display 'wayland-3' has no socket" in text and "no screen" not in text


def test_a_platform_the_user_chose_is_not_second_guessed(
    desktop: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert check().ok and check().platform is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(platform_check, "missing_libraries", lambda p: ["libxcb-keysyms.so.1"])
    verdict = check()
    assert not verdict.ok and [c.name for c in verdict.candidates] == ["xcb"]


def test_no_screen_at_all_keeps_the_short_message(desktop, monkeypatch) -> None:
    monkeypatch.delenv("DISPLAY")
    verdict = check()
    assert not verdict.ok and explain(verdict) == platform_check.NO_SCREEN


def _env_without_a_screen(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "WAYLAND", "DBUS"))}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)  # no session bus: no desktop notification
    return env


def test_an_unreachable_display_exits_1_not_with_a_signal(tmp_path: Path) -> None:
    if display_answers(":77"):
        pytest.skip("an X server answers on :77 here")
    env = {**_env_without_a_screen(tmp_path), "DISPLAY": ":77"}
    done = subprocess.run(
        [sys.executable, "-m", "faceapp", "--quit-after-show"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # Qt's abort would be -6 (134 from a shell)
    assert "the X display ':77' does not answer" in done.stderr
    assert "faceapp-cli restore" in done.stderr
    assert "Could not load the Qt platform plugin" not in done.stderr


def test_display_answers_over_tcp_and_unix_sockets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        if port <= platform_check.X11_TCP_BASE:
            pytest.skip("the system gave a port below 6000")
        display = f"127.0.0.1:{port - platform_check.X11_TCP_BASE}.0"
        assert display_answers(display)
    assert not display_answers(display, timeout=0.5)

    monkeypatch.setattr(platform_check, "X11_SOCKET_DIR", tmp_path)
    assert not display_answers(":5")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "X5"))
        server.listen()
        assert display_answers(":5") and display_answers("unix:5.0")
    assert not display_answers("not a display")


def test_the_real_library_probe_names_only_libraries_that_do_not_load() -> None:
    plugin = platform_check.plugin_file("xcb")
    if plugin is None:
        pytest.skip("this PySide6 has no xcb plugin")
    for name in platform_check.missing_libraries("xcb"):
        with pytest.raises(OSError):
            ctypes.CDLL(name)


def test_opencv_plugin_path_is_dropped_but_others_are_kept() -> None:
    env = {"QT_QPA_PLATFORM_PLUGIN_PATH": "/venv/lib/python3.11/site-packages/cv2/qt/plugins"}
    assert platform_check.keep_opencv_out_of_qt(env) == ["QT_QPA_PLATFORM_PLUGIN_PATH"]
    assert env == {}
    env = {"QT_QPA_PLATFORM_PLUGIN_PATH": "/opt/qt6/plugins"}
    assert platform_check.keep_opencv_out_of_qt(env) == [] and len(env) == 1


def test_setup_report_lists_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform_check, "missing_libraries", lambda p: ["libxcb-cursor.so.0"])
    report = platform_check.setup_report()
    assert "missing: libxcb-cursor.so.0" in report and "sudo apt install libxcb-cursor0" in report
    monkeypatch.setattr(platform_check, "missing_libraries", lambda p: [])
    assert platform_check.setup_report() == ""
