"""Can a window open here? Answered before Qt is loaded (this module never imports Qt).

Qt aborts the whole process (SIGABRT, exit code 134, a core dump) when its platform plugin
cannot start: a library of the xcb plugin is missing (``libxcb-cursor0`` on a fresh Ubuntu
desktop), or ``DISPLAY`` names an X server that does not answer (a stale SSH session). This
module finds out first, without Qt: which platform plugins could start (xcb: its libraries load
and the X display answers; wayland: the compositor's socket is there and its libraries load).
When none can, the caller exits with code 1 and :func:`explain` in plain words, naming the
missing packages and the command that installs them.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

X11_SOCKET_DIR = Path("/tmp/.X11-unix")
X11_TCP_BASE = 6000
CONNECT_TIMEOUT_S = 2.0
QT_PLATFORMS = ("xcb", "wayland")

# The libraries PySide6's xcb and wayland plugins link to that desktops may lack, and the package
# that has each on Debian/Ubuntu (apt), Fedora (dnf), Arch (pacman) and openSUSE (zypper), from
# each distribution's package search (the file's owner).
_PACKAGE_TABLE = """
libxcb-cursor.so.0       libxcb-cursor0       xcb-util-cursor      xcb-util-cursor      libxcb-cursor0
libxcb-icccm.so.4        libxcb-icccm4        xcb-util-wm          xcb-util-wm          libxcb-icccm4
libxcb-keysyms.so.1      libxcb-keysyms1      xcb-util-keysyms     xcb-util-keysyms     libxcb-keysyms1
libxcb-image.so.0        libxcb-image0        xcb-util-image       xcb-util-image       libxcb-image0
libxcb-render-util.so.0  libxcb-render-util0  xcb-util-renderutil  xcb-util-renderutil  libxcb-render-util0
libxcb-util.so.1         libxcb-util1         xcb-util             xcb-util             libxcb-util1
libxcb-randr.so.0        libxcb-randr0        libxcb               libxcb               libxcb-randr0
libxcb-render.so.0       libxcb-render0       libxcb               libxcb               libxcb-render0
libxcb-shape.so.0        libxcb-shape0        libxcb               libxcb               libxcb-shape0
libxcb-shm.so.0          libxcb-shm0          libxcb               libxcb               libxcb-shm0
libxcb-sync.so.1         libxcb-sync1         libxcb               libxcb               libxcb-sync1
libxcb-xfixes.so.0       libxcb-xfixes0       libxcb               libxcb               libxcb-xfixes0
libxcb-xkb.so.1          libxcb-xkb1          libxcb               libxcb               libxcb-xkb1
libxcb.so.1              libxcb1              libxcb               libxcb               libxcb1
libX11-xcb.so.1          libx11-xcb1          libX11-xcb           libx11               libX11-xcb1
libX11.so.6              libx11-6             libX11               libx11               libX11-6
libxkbcommon.so.0        libxkbcommon0        libxkbcommon         libxkbcommon         libxkbcommon0
libxkbcommon-x11.so.0    libxkbcommon-x11-0   libxkbcommon-x11     libxkbcommon-x11     libxkbcommon-x11-0
libwayland-client.so.0   libwayland-client0   libwayland-client    wayland              libwayland-client0
libwayland-cursor.so.0   libwayland-cursor0   libwayland-cursor    wayland              libwayland-cursor0
libfontconfig.so.1       libfontconfig1       fontconfig           fontconfig           libfontconfig1
libfreetype.so.6         libfreetype6         freetype             freetype2            libfreetype6
libEGL.so.1              libegl1              libglvnd-egl         libglvnd             libEGL1
libGL.so.1               libgl1               libglvnd-glx         libglvnd             libGL1
libGLX.so.0              libglx0              libglvnd-glx         libglvnd             libGLX0
libOpenGL.so.0           libopengl0           libglvnd-opengl      libglvnd             libOpenGL0
libdbus-1.so.3           libdbus-1-3          dbus-libs            dbus                 libdbus-1-3
"""  # noqa: E501 - a table reads best one library a line
PACKAGES: dict[str, tuple[str, ...]] = {
    line.split()[0]: tuple(line.split()[1:]) for line in _PACKAGE_TABLE.strip().splitlines()
}
INSTALLERS = (
    ("Debian, Ubuntu", "sudo apt install"),
    ("Fedora", "sudo dnf install"),
    ("Arch", "sudo pacman -S"),
    ("openSUSE", "sudo zypper install"),
)


@dataclass
class Candidate:
    """One platform plugin and what keeps it from starting (nothing: it can start)."""

    name: str
    problems: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # shared libraries that do not load
    unset: bool = False  # its variable (DISPLAY, WAYLAND_DISPLAY) is not set: not in use here

    @property
    def usable(self) -> bool:
        return not self.problems and not self.missing


@dataclass
class Verdict:
    candidates: list[Candidate]
    platform: str | None = None  # start Qt with this platform; None: leave Qt's own choice
    checked: bool = True  # False: not Linux, or a platform the user chose that is not checked

    @property
    def ok(self) -> bool:
        return not self.checked or any(c.usable for c in self.candidates)


# ---------------------------------------------------------------------------------- verdict


def check(env: Mapping[str, str] | None = None) -> Verdict:
    """Which Qt platform can start, from the environment, the plugins' libraries and sockets."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return Verdict([], checked=False)
    requested = _requested_platforms(env.get("QT_QPA_PLATFORM", ""))
    if requested is None:
        return Verdict([], checked=False)  # offscreen, vnc, eglfs...: the user's own choice
    candidates = [_check_one(name, env) for name in requested]
    usable = [c.name for c in candidates if c.usable]
    # Qt tries xcb alone unless told otherwise, and aborts when it fails: name the one that works.
    platform = usable[0] if len(usable) == 1 and not env.get("QT_QPA_PLATFORM") else None
    return Verdict(candidates, platform=platform)


def _requested_platforms(value: str) -> list[str] | None:
    """The platforms to check: the chosen ones when all are xcb/wayland, else None."""
    if not value.strip():
        return list(QT_PLATFORMS)
    names = [part.split(":")[0].strip() for part in value.split(";") if part.strip()]
    families = [_family(name) for name in names]
    if not names or None in families:
        return None
    return list(dict.fromkeys(families))  # type: ignore[arg-type]


def _family(name: str) -> str | None:
    if name == "xcb":
        return "xcb"
    return "wayland" if name.startswith("wayland") else None


def _check_one(name: str, env: Mapping[str, str]) -> Candidate:
    return _check_xcb(env) if name == "xcb" else _check_wayland(env)


def _check_xcb(env: Mapping[str, str]) -> Candidate:
    candidate = Candidate("xcb")
    display = env.get("DISPLAY", "")
    if not display:
        candidate.problems.append("DISPLAY is not set (no X11 screen)")
        candidate.unset = True
        return candidate
    if not display_answers(display):
        candidate.problems.append(
            f"the X display '{display}' does not answer (DISPLAY={display}: a closed SSH "
            "session, or an X server that has stopped?)"
        )
    candidate.missing = missing_libraries("xcb")
    return candidate


def _check_wayland(env: Mapping[str, str]) -> Candidate:
    candidate = Candidate("wayland")
    name = env.get("WAYLAND_DISPLAY", "")
    if not name:
        candidate.problems.append("WAYLAND_DISPLAY is not set (no Wayland session)")
        candidate.unset = True
        return candidate
    path = _wayland_socket(name, env.get("XDG_RUNTIME_DIR", ""))
    if path is None or not path.exists():
        where = f" ({path})" if path else " (XDG_RUNTIME_DIR is not set)"
        candidate.problems.append(f"the Wayland display '{name}' has no socket{where}")
        return candidate
    candidate.missing = missing_libraries("wayland")
    return candidate


# ---------------------------------------------------------------------------------- probes


def _wayland_socket(name: str, runtime_dir: str) -> Path | None:
    if os.path.isabs(name):
        return Path(name)
    return Path(runtime_dir) / name if runtime_dir else None


def display_answers(display: str, timeout: float = CONNECT_TIMEOUT_S) -> bool:
    """Whether an X server accepts a connection for DISPLAY (a socket connect; no X library)."""
    match = re.fullmatch(r"(?P<host>[^:]*):(?P<number>\d+)(\.\d+)?", display.strip())
    if match is None:
        return False
    host, number = match["host"], int(match["number"])
    if host in ("", "unix"):
        return _unix_socket_answers(number, timeout)
    try:
        with socket.create_connection((host, X11_TCP_BASE + number), timeout=timeout):
            return True
    except OSError:
        return False


def _unix_socket_answers(number: int, timeout: float) -> bool:
    path = str(X11_SOCKET_DIR / f"X{number}")
    # Linux X servers listen on an abstract socket as well as on the file in /tmp/.X11-unix.
    for address in (path, "\0" + path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(address)
                return True
            except OSError:
                continue
    return False


def plugin_file(platform: str) -> Path | None:
    """PySide6's platform plugin library for ``platform`` (found without importing Qt)."""
    for folder in _platform_plugin_dirs():
        for pattern in (f"libq{platform}.so", f"libq{platform}-*.so"):
            found = sorted(folder.glob(pattern))
            if found:
                return found[0]
    return None


def _platform_plugin_dirs() -> list[Path]:
    roots: list[Path] = []
    spec = importlib.util.find_spec("PySide6")
    if spec is not None and spec.submodule_search_locations:
        roots += [Path(p) for p in spec.submodule_search_locations]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle) / "PySide6")
    return [root / "Qt" / "plugins" / "platforms" for root in roots]


def missing_libraries(platform: str) -> list[str]:
    """The shared libraries of the platform's Qt plugin that the system cannot load."""
    plugin = plugin_file(platform)
    if plugin is None:
        return [f"libq{platform}.so (the Qt {platform} plugin of PySide6)"]
    found = _ldd_not_found(plugin)
    return found if found is not None else _dlopen_failure(plugin)


def _ldd_not_found(library: Path) -> list[str] | None:
    """Every missing dependency, transitively, as ldd reports them; None without ldd."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        done = subprocess.run(
            [ldd, str(library)], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    missing = re.findall(r"^\s*(\S+) => not found", done.stdout, flags=re.MULTILINE)
    return list(dict.fromkeys(missing))


def _dlopen_failure(library: Path) -> list[str]:
    """Without ldd: load the plugin; the loader names the first library it cannot find."""
    try:
        ctypes.CDLL(str(library))
    except OSError as error:
        match = re.match(r"(\S+?): cannot open shared object file", str(error))
        return [match[1] if match else str(error)]
    return []


# ---------------------------------------------------------------------------------- words


NO_SCREEN = (
    "faceapp: no screen found, so the window cannot open (this looks like a server or an SSH "
    "session). Use the command line instead, e.g.: faceapp-cli restore photo.jpg"
)


def explain(verdict: Verdict) -> str:
    """Why no window can open, what is missing and how to install it, in plain words."""
    if all(c.unset for c in verdict.candidates):
        return NO_SCREEN
    lines = ["faceapp: the window cannot open here."]
    for candidate in verdict.candidates:
        if candidate.unset:
            continue
        label = "X11 (xcb)" if candidate.name == "xcb" else "Wayland"
        for problem in candidate.problems:
            lines.append(f"  - {label}: {problem}.")
        if candidate.missing:
            lines.append(f"  - {label}: missing libraries: {', '.join(candidate.missing)}.")
    missing = [lib for c in verdict.candidates for lib in c.missing]
    if missing:
        lines += ["", *install_commands(missing)]
    lines += ["", "Meanwhile the command line works, e.g.: faceapp-cli restore photo.jpg"]
    return "\n".join(lines)


def install_commands(libraries: list[str]) -> list[str]:
    """The install command for each distribution family (and hints for unknown files)."""
    known = list(dict.fromkeys(lib for lib in libraries if lib in PACKAGES))
    unknown = [lib for lib in dict.fromkeys(libraries) if lib not in PACKAGES]
    lines: list[str] = []
    if known:
        lines.append("Install the missing libraries with the command for your system:")
        width = max(len(family) for family, _ in INSTALLERS) + 1
        for column, (family, command) in enumerate(INSTALLERS):
            packages = dict.fromkeys(PACKAGES[lib][column] for lib in known)
            lines.append(f"  {family + ':':<{width}} {command} {' '.join(packages)}")
    for lib in unknown:
        if lib.startswith("libq") and "plugin" in lib:
            lines.append(f"  {lib}: PySide6 is incomplete; reinstall faceapp.")
        else:
            lines.append(f"  {lib}: install the package of your system that provides this file.")
    return lines


def notify(title: str, body: str, verdict: Verdict | None = None) -> bool:
    """Show the message on the desktop when some no-Qt route exists; False when none did."""
    if shutil.which("notify-send") and _session_bus():
        try:
            done = subprocess.run(
                ["notify-send", "--app-name=faceapp", "--urgency=critical", title, body],
                capture_output=True,
                timeout=5,
                check=False,
            )
            if done.returncode == 0:
                return True
        except (OSError, subprocess.SubprocessError):
            pass
    return _xmessage(f"{title}\n\n{body}", verdict)


def _session_bus() -> bool:
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return bool(runtime) and (Path(runtime) / "bus").exists()


def _xmessage(text: str, verdict: Verdict | None) -> bool:
    """xmessage (plain Xlib, no Qt) when the X display answers but Qt's plugin cannot load."""
    display_ok = verdict is not None and any(
        c.name == "xcb" and not c.problems for c in verdict.candidates
    )
    if not display_ok or shutil.which("xmessage") is None:
        return False
    try:
        subprocess.Popen(  # noqa: S603 - a fixed program; the dialog stays after we exit
            ["xmessage", "-center", text],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------------------- OpenCV


def keep_opencv_out_of_qt(env: dict[str, str] | os._Environ[str] | None = None) -> list[str]:
    """Drop the Qt variables that the full opencv-python build points into its own Qt 5.

    Its ``cv2`` sets QT_QPA_PLATFORM_PLUGIN_PATH (its Qt 5 xcb plugin) and QT_QPA_FONTDIR (a
    folder its wheel does not have) when imported, and Qt looks there first. PySide6 6.12 skips
    the Qt 5 plugin and goes on (checked on an X server), so this is a precaution: the app's Qt
    gets its own plugins and fonts whatever the versions. Returns the names removed. Call it
    after the last import that may load cv2 and before QApplication is made.
    """
    env = os.environ if env is None else env
    removed = []
    for name in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        value = env.get(name, "")
        if value and "cv2" in Path(value).parts:
            del env[name]
            removed.append(name)
    return removed


# ---------------------------------------------------------------------------------- setup


def setup_report() -> str:
    """What scripts/setup.sh prints: the window's missing system libraries and how to install
    them ("" when nothing is missing, or not on Linux). Checks the libraries only, not a display."""
    if not sys.platform.startswith("linux"):
        return ""
    missing = missing_libraries("xcb")
    if not missing:
        return ""
    return "\n".join(
        [
            f"The window (X11) needs system libraries that are missing: {', '.join(missing)}.",
            *install_commands(missing),
            "The command line (faceapp-cli) works without them.",
        ]
    )


if __name__ == "__main__":
    report = setup_report()
    if report:
        print(report)
