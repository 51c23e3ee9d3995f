"""Every golden architecture, saved the way real files are wrapped, loaded like a user's download.

The weights are regenerated from ../shared/golden (see RECIPE.md there), written to disk inside the
wrappers the real checkpoints use, and read back only through faceapp.core.models.loading /
weights; the outputs must match the official implementation's within each meta.json's
`suggested_atol`.
The last part checks that unsafe and damaged files are refused with the right error.
"""

from __future__ import annotations

import os
import pickle
import random
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import load_golden, require_shared
from torch import Tensor, nn

from faceapp.core.errors import ModelLoadError, UnsafeModelError, UnsupportedModelError
from faceapp.core.models.loading import (
    DETECTOR,
    FACE,
    PARSER,
    identify_model_file,
    load_face_model,
    load_upscale_model,
)
from faceapp.core.models.weights import load_checkpoint, load_state_dict

StateDict = dict[str, Tensor]
Wrap = Callable[[StateDict], Any]

# ---------------------------------------------------------------------------------------------
# Golden files on disk, wrapped as the real downloads are


def _bare(sd: StateDict) -> Any:
    return sd


def _params_ema(sd: StateDict) -> Any:
    return {"params_ema": sd}


def _params(sd: StateDict) -> Any:
    return {"params": sd}


def _lightning(sd: StateDict) -> Any:
    return {"state_dict": {f"vqvae.{k}": v for k, v in sd.items()}, "epoch": 1, "global_step": 10}


def _data_parallel(sd: StateDict) -> Any:
    return {f"module.{k}": v for k, v in sd.items()}


# golden folder -> {file name: wrapper}; every file of a folder is written from one regeneration
FILES: dict[str, dict[str, Wrap]] = {
    "gfpgan_v1.4": {"GFPGANv1.4.pth": _params_ema, "GFPGANv1.4_params.pth": _params},
    "codeformer": {"codeformer.pth": _params_ema},
    "restoreformer": {"RestoreFormer.pth": _bare},
    "restoreformer_pp": {"RestoreFormer++.ckpt": _lightning},
    "gpen_bfr_256": {"GPEN-BFR-256.pth": _bare},
    "gpen_bfr_512": {"GPEN-BFR-512.pth": _bare},
    "gpen_bfr_1024": {"GPEN-BFR-1024.pth": _bare},
    "gpen_bfr_2048": {"GPEN-BFR-2048.pth": _bare},
    "hifacegan": {"latest_net_G.pth": _bare},  # checkpoints/<variant>/latest_net_G.pth
    "realesrgan_x4plus": {"RealESRGAN_x4plus.pth": _params_ema},
    "realesrgan_x2plus": {"RealESRGAN_x2plus.pth": _params_ema},
    "realesr_general_x4v3": {"realesr-general-x4v3.pth": _params},
    "facexlib_retinaface_resnet50": {"detection_Resnet50_Final.pth": _data_parallel},
    "facexlib_parsenet": {"parsing_parsenet.pth": _bare},
    "facexlib_bisenet": {"parsing_bisenet.pth": _bare},
}


class GoldenFiles:
    """Regenerates each golden state dict at most once and writes its wrapped files under root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._paths: dict[str, dict[str, Path]] = {}
        self._meta: dict[str, dict] = {}

    def path(self, name: str, file: str | None = None) -> Path:
        """The saved file (the folder's first one when `file` is None)."""
        if name not in self._paths:
            self._write(name)
        paths = self._paths[name]
        return paths[file] if file else next(iter(paths.values()))

    def meta(self, name: str) -> dict:
        self.path(name)
        return self._meta[name]

    def spec(self, name: str, output: str) -> dict:
        return self.meta(name)["outputs"][output]

    def golden(self, name: str, output: str) -> np.ndarray:
        return np.load(require_shared("golden", name, self.spec(name, output)["file"]))

    def input(self, name: str) -> Tensor:
        return torch.from_numpy(np.load(require_shared("golden", name, "input.npy")))

    def _write(self, name: str) -> None:
        sd, meta = load_golden(name)
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        for file, wrap in FILES[name].items():
            torch.save(wrap(sd), folder / file)
            paths[file] = folder / file
        self._paths[name], self._meta[name] = paths, meta


@pytest.fixture(scope="module")
def golden_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoldenFiles]:
    root = tmp_path_factory.mktemp("golden_files")
    yield GoldenFiles(root)
    shutil.rmtree(root, ignore_errors=True)  # several GB of weights; do not keep them around


@pytest.fixture(scope="module", autouse=True)
def _two_threads() -> Iterator[None]:
    """The golden outputs were produced with 2 threads; the tolerances include that noise."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def _assert_matches(out: Tensor | np.ndarray, golden: np.ndarray, spec: Mapping) -> None:
    out = out.detach().cpu().numpy() if isinstance(out, Tensor) else out
    assert out.shape == golden.shape
    deviation = float(np.abs(out - golden).max())
    assert deviation <= spec["suggested_atol"], f"{spec['file']}: max |diff| {deviation:.3g}"


def _slow(*values: Any) -> Any:
    return pytest.param(*values, marks=pytest.mark.slow)


# Every golden test of a face model or upscaler runs on PyTorch and through OpenVINO (float32)
RUNTIMES = ["torch", pytest.param("openvino", marks=pytest.mark.slow)]


def _refuse_torch(*_args: Any) -> Any:
    raise AssertionError("the compiled model fell back to PyTorch")


def _on_openvino(model: Any, path: Path, size: int) -> None:
    """Convert `model` for size x size inputs and make any PyTorch fallback fail the test."""
    from faceapp.core.runtime.compiled import (
        Target,
        attach_face_runtime,
        attach_upscale_runtime,
    )

    pytest.importorskip("openvino")
    target = Target("CPU", "exact")
    if hasattr(model, "input_size"):
        attach_face_runtime(model, path, target, size=size)
        assert model.compiled is not None, "conversion or self-check failed (see the log)"
        model.call = _refuse_torch
    else:
        attach_upscale_runtime(model, path, target, tile=size)
        assert model.compiled is not None, "conversion or self-check failed (see the log)"
        model.module.forward = _refuse_torch


# ---------------------------------------------------------------------------------------------
# Face restoration models: file -> load_face_model -> FaceModel(x)

FACE_CASES = [
    # golden folder, file, arch, input size
    _slow("gfpgan_v1.4", "GFPGANv1.4.pth", "GFPGAN", 512),
    _slow("gfpgan_v1.4", "GFPGANv1.4_params.pth", "GFPGAN", 512),
    _slow("restoreformer", "RestoreFormer.pth", "RestoreFormer", 512),  # golden input is 256²
    _slow("restoreformer_pp", "RestoreFormer++.ckpt", "RestoreFormer++", 512),
    ("gpen_bfr_256", "GPEN-BFR-256.pth", "GPEN", 256),
    _slow("gpen_bfr_512", "GPEN-BFR-512.pth", "GPEN", 512),
    # the same FullGenerator(1024) as GPEN-Colorization-1024 and GPEN-Inpainting-1024
    _slow("gpen_bfr_1024", "GPEN-BFR-1024.pth", "GPEN", 1024),
]


@pytest.mark.shared
@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize(("name", "file", "arch", "size"), FACE_CASES)
def test_face_model_matches_golden(
    golden_files: GoldenFiles, name: str, file: str, arch: str, size: int, runtime: str
) -> None:
    face = load_face_model(golden_files.path(name, file))
    assert (face.arch, face.input_size, face.has_fidelity) == (arch, size, False)
    assert not face.module.training
    x = golden_files.input(name)
    if runtime == "openvino":
        _on_openvino(face, golden_files.path(name, file), x.shape[-1])
    with torch.inference_mode():
        out = face(x)
    _assert_matches(out, golden_files.golden(name, "output"), golden_files.spec(name, "output"))


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["torch", "openvino"])
def test_hifacegan_matches_golden_for_each_face_of_a_batch(
    golden_files: GoldenFiles, runtime: str
) -> None:
    """HiFaceGAN reads [0, 1] and keeps the [0, 1] part of its output; FaceModel speaks [-1, 1]
    like every face model. The official output is for one face alone: in a batch, the face
    must get the same result (the official train-mode batch norm would mix the faces)."""
    face = load_face_model(golden_files.path("hifacegan"))
    assert (face.arch, face.input_size, face.has_fidelity) == ("HiFaceGAN", 512, False)
    assert not face.module.training
    x = golden_files.input("hifacegan")
    if runtime == "openvino":
        _on_openvino(face, golden_files.path("hifacegan"), 512)
    other = x.flip(-1)  # another face for the batch
    with torch.inference_mode():
        batch = face(torch.cat([other, x]) * 2 - 1)
        alone = face(other * 2 - 1)
    spec = golden_files.spec("hifacegan", "output")
    _assert_matches((batch[1:] + 1) / 2, golden_files.golden("hifacegan", "output"), spec)
    torch.testing.assert_close(batch[:1], alone, rtol=0, atol=spec["suggested_atol"])


CODEFORMER_WEIGHTS = (0.0, 0.5, 1.0)


@pytest.fixture(scope="module")
def codeformer_runs(golden_files: GoldenFiles) -> dict[float, tuple[Tensor, Tensor]]:
    """fidelity -> (FaceModel output, logits), one forward pass per fidelity."""
    face = load_face_model(golden_files.path("codeformer"))
    assert (face.arch, face.input_size, face.has_fidelity) == ("CodeFormer", 512, True)
    seen: list[tuple[Tensor, ...]] = []
    # spandrel's module returns (out, logits); FaceModel keeps `out`, the hook sees both
    handle = face.module.register_forward_hook(lambda _m, _args, output: seen.append(output))
    x = golden_files.input("codeformer")
    runs = {}
    try:
        with torch.inference_mode():
            for w in CODEFORMER_WEIGHTS:
                out = face(x, w)
                assert out is seen[-1][0]
                runs[w] = (out, seen[-1][1])
    finally:
        handle.remove()
    return runs


@pytest.fixture(scope="module")
def codeformer_openvino_runs(golden_files: GoldenFiles) -> dict[float, tuple[Tensor, Tensor]]:
    """The same through OpenVINO float32: the compiled graph returns (out, logits)."""
    path = golden_files.path("codeformer")
    face = load_face_model(path)
    _on_openvino(face, path, 512)
    x = golden_files.input("codeformer")
    runs = {}
    with torch.inference_mode():
        for w in CODEFORMER_WEIGHTS:
            out, logits = face.compiled.net.run_all(x.numpy(), np.array(w, np.float32))
            np.testing.assert_array_equal(face(x, w).numpy(), out)  # the path the app takes
            runs[w] = (torch.from_numpy(out), torch.from_numpy(logits))
    return runs


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["torch", "openvino"])
@pytest.mark.parametrize("w", CODEFORMER_WEIGHTS)
def test_codeformer_matches_golden(
    request: pytest.FixtureRequest, golden_files: GoldenFiles, w: float, runtime: str
) -> None:
    fixture = "codeformer_runs" if runtime == "torch" else "codeformer_openvino_runs"
    out, logits = request.getfixturevalue(fixture)[w]
    _assert_matches(
        out,
        golden_files.golden("codeformer", f"output_w{w}"),
        golden_files.spec("codeformer", f"output_w{w}"),
    )
    _assert_matches(
        logits,
        golden_files.golden("codeformer", "logits"),
        golden_files.spec("codeformer", "logits"),
    )
    top_idx = logits.argmax(dim=-1, keepdim=True).numpy()
    np.testing.assert_array_equal(top_idx, golden_files.golden("codeformer", "top_idx"))


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize(("name", "size"), [("gpen_bfr_1024", 1024), ("gpen_bfr_2048", 2048)])
def test_large_gpen_files_are_identified(golden_files: GoldenFiles, name: str, size: int) -> None:
    info = identify_model_file(golden_files.path(name))
    assert (info.purpose, info.arch, info.input_size) == (FACE, "GPEN", size)


# ---------------------------------------------------------------------------------------------
# Background upscalers: file -> load_upscale_model

UPSCALE_CASES = [
    _slow("realesrgan_x4plus", 4),
    ("realesrgan_x2plus", 2),
    ("realesr_general_x4v3", 4),
]


@pytest.mark.shared
@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize(("name", "scale"), UPSCALE_CASES)
def test_upscaler_matches_golden(
    golden_files: GoldenFiles, name: str, scale: int, runtime: str
) -> None:
    upscaler = load_upscale_model(golden_files.path(name))
    assert upscaler.scale == scale
    assert not upscaler.module.training
    x = golden_files.input(name)
    spec = golden_files.spec(name, "output")
    golden = golden_files.golden(name, "output")
    if runtime == "openvino":  # the compiled graph ends in the clamp: no raw output to check
        _on_openvino(upscaler, golden_files.path(name), x.shape[-1])
    else:
        with torch.inference_mode():
            _assert_matches(upscaler.module(x), golden, spec)
    with torch.inference_mode():
        clamped = upscaler(x)
    _assert_matches(clamped, np.clip(golden, 0.0, 1.0), spec)
    assert float(clamped.min()) >= 0.0 and float(clamped.max()) <= 1.0


# ---------------------------------------------------------------------------------------------
# facexlib helpers: recognised on import, and their weights load into facexlib's own classes


def _retinaface() -> nn.Module:
    from facexlib.detection.retinaface import RetinaFace

    return RetinaFace(network_name="resnet50", half=False, device="cpu")


def _parsenet() -> nn.Module:
    from facexlib.parsing.parsenet import ParseNet

    return ParseNet(in_size=512, out_size=512, parsing_ch=19)


def _bisenet() -> nn.Module:
    from facexlib.parsing.bisenet import BiSeNet

    return BiSeNet(num_class=19)


FACEXLIB_CASES = [
    # golden folder, purpose, arch, facexlib constructor, golden outputs in the call's return order
    (
        "facexlib_retinaface_resnet50",
        DETECTOR,
        "RetinaFace-R50",
        _retinaface,
        ("output_loc", "output_conf", "output_landms"),
    ),
    ("facexlib_parsenet", PARSER, "ParseNet", _parsenet, ("output", "output_img")),
    ("facexlib_bisenet", PARSER, "BiSeNet", _bisenet, ("output",)),  # out, out16, out32
]
FACEXLIB_IDS = [case[0] for case in FACEXLIB_CASES]
IDENTIFY_CASES = [
    pytest.param(name, purpose, arch, id=name) for name, purpose, arch, *_ in FACEXLIB_CASES
]


@pytest.mark.shared
@pytest.mark.parametrize(("name", "purpose", "arch"), IDENTIFY_CASES)
def test_facexlib_file_is_identified(
    golden_files: GoldenFiles, name: str, purpose: str, arch: str
) -> None:
    info = identify_model_file(golden_files.path(name))
    assert (info.purpose, info.arch) == (purpose, arch)


@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "purpose", "arch", "build", "outputs"), FACEXLIB_CASES, ids=FACEXLIB_IDS
)
def test_facexlib_weights_match_golden(
    golden_files: GoldenFiles,
    name: str,
    purpose: str,
    arch: str,
    build: Callable[[], nn.Module],
    outputs: tuple[str, ...],
) -> None:
    net = build()
    net.load_state_dict(load_state_dict(golden_files.path(name)), strict=True)
    net.eval()
    with torch.inference_mode():
        results = net(golden_files.input(name))
    for output, result in zip(outputs, results[: len(outputs)], strict=True):
        _assert_matches(result, golden_files.golden(name, output), golden_files.spec(name, output))


# ---------------------------------------------------------------------------------------------
# Files that are models, but not of the kind asked for


@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "loader", "what"),
    [
        ("realesr_general_x4v3", load_face_model, "background upscaler"),
        ("facexlib_retinaface_resnet50", load_face_model, "RetinaFace-R50 detector"),
        ("gpen_bfr_256", load_upscale_model, "GPEN face model"),
    ],
)
def test_wrong_kind_of_model_is_unsupported(
    golden_files: GoldenFiles, name: str, loader: Callable[[Path], Any], what: str
) -> None:
    path = golden_files.path(name)
    with pytest.raises(UnsupportedModelError) as caught:
        loader(path)
    assert path.name in str(caught.value)
    assert what in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Unsafe and damaged files


class _Payload:
    """Pickles to a call that creates `marker`: loading it unsafely would run code."""

    def __init__(self, how: str, marker: Path) -> None:
        self.how, self.marker = how, marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        if self.how == "os.system":
            return os.system, (f'echo pwned > "{self.marker}"',)
        return open, (str(self.marker), "w")


def _write_malicious(path: Path, how: str, marker: Path, writer: str) -> None:
    obj = {"params_ema": {"conv.weight": torch.zeros(2, 2)}, "extra": _Payload(how, marker)}
    if writer == "torch.save":
        torch.save(obj, path)
        return
    with path.open("wb") as f:
        pickle.dump(obj, f, protocol=2 if writer == "pickle-2" else pickle.DEFAULT_PROTOCOL)


PAYLOADS = ("os.system", "open")
WRITERS = ("torch.save", "pickle-2", "pickle-default")


@pytest.mark.parametrize("how", PAYLOADS)
def test_payload_really_runs_code_when_unpickled(tmp_path: Path, how: str) -> None:
    """Proves the refusal tests below are not vacuous (this is our own, harmless payload)."""
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pkl"
    _write_malicious(path, how, marker, "pickle-default")
    with path.open("rb") as f:
        pickle.load(f)
    assert marker.exists()


@pytest.mark.parametrize("loader", [load_checkpoint, load_face_model], ids=lambda f: f.__name__)
@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("how", PAYLOADS)
def test_malicious_pickle_is_refused_without_running(
    tmp_path: Path, how: str, writer: str, loader: Callable[[Path], Any]
) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "GFPGANv1.4.pth"
    _write_malicious(path, how, marker, writer)
    with pytest.raises(UnsafeModelError) as caught:
        loader(path)
    assert path.name in str(caught.value)
    assert not marker.exists()


DAMAGED_CASES = [
    pytest.param(b"", id="empty"),
    pytest.param(random.Random(0).randbytes(4096), id="random-bytes"),
    pytest.param(random.Random(2).randbytes(4096), id="random-bytes-2"),
    pytest.param(b"hello, this is not a model\n", id="text"),
    pytest.param(b"<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n", id="html-page"),
    pytest.param(b"version https://git-lfs.github.com/spec/v1\nsize 348632874\n", id="lfs-pointer"),
]


def _assert_damaged(path: Path, error: ModelLoadError) -> None:
    assert not isinstance(error, (UnsafeModelError, UnsupportedModelError)), repr(error)
    assert path.name in str(error)


@pytest.mark.parametrize("content", DAMAGED_CASES)
def test_damaged_file_is_a_load_error_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "GFPGANv1.4.pth"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError) as caught:
        load_face_model(path)
    _assert_damaged(path, caught.value)


@pytest.mark.shared
@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_checkpoint_is_a_load_error(
    golden_files: GoldenFiles, tmp_path: Path, keep: float
) -> None:
    data = golden_files.path("realesr_general_x4v3").read_bytes()
    path = tmp_path / "realesr-general-x4v3.pth"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelLoadError) as caught:
        load_upscale_model(path)
    _assert_damaged(path, caught.value)


@pytest.mark.parametrize("obj", [{"a": 1}, {"params_ema": {"a": 1}}, [1, 2, 3]], ids=repr)
def test_torch_file_without_weights_is_a_load_error(tmp_path: Path, obj: Any) -> None:
    path = tmp_path / "model.pth"
    torch.save(obj, path)
    with pytest.raises(ModelLoadError) as caught:
        load_face_model(path)
    _assert_damaged(path, caught.value)


# ---------------------------------------------------------------------------------------------
# Face parsers as faceapp loads them, through OpenVINO float32


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("name", ["facexlib_parsenet", "facexlib_bisenet"])
def test_face_parser_through_openvino_matches_golden(golden_files: GoldenFiles, name: str) -> None:
    from faceapp.core.faces.parsing import load_face_parser
    from faceapp.core.runtime.compiled import Target, attach_parser_runtime

    pytest.importorskip("openvino")
    path = golden_files.path(name)
    parser = load_face_parser(path)
    x = golden_files.input(name)
    attach_parser_runtime(parser, path, Target("CPU", "exact"), size=x.shape[-1])
    assert parser.compiled is not None, "conversion or self-check failed (see the log)"
    parser.module.forward = _refuse_torch
    with torch.inference_mode():
        out = parser(x)
    _assert_matches(out, golden_files.golden(name, "output"), golden_files.spec(name, "output"))


@pytest.mark.shared
@pytest.mark.slow
def test_retinaface_through_openvino_matches_golden(golden_files: GoldenFiles) -> None:
    """The detector's architecture exported as faceapp exports its detector (any image size)."""
    from faceapp.core.runtime.compiled import Target, prepare
    from faceapp.core.runtime.onnx_export import DetectorGraph

    pytest.importorskip("openvino")
    name = "facexlib_retinaface_resnet50"
    path = golden_files.path(name)
    net = _retinaface()
    net.load_state_dict(load_state_dict(path), strict=True)
    x = golden_files.input(name)
    target = Target("CPU", "exact")
    graph = DetectorGraph(net.eval())
    prepared = prepare(path, graph, (x,), "RetinaFace-R50", target, (-3.0, 3.0), any_size=True)
    assert prepared is not None, "conversion or self-check failed (see the log)"
    results = prepared.net.run_all(x.numpy())
    for output, result in zip(("output_loc", "output_conf", "output_landms"), results, strict=True):
        _assert_matches(result, golden_files.golden(name, output), golden_files.spec(name, output))
