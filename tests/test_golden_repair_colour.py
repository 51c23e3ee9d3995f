"""LaMa and DDColor against the official implementations' outputs (../shared/golden).

Weights are regenerated from the golden recipe, saved the way the real downloads are wrapped
(LaMa: a Lightning checkpoint with training metadata and evaluator nets beside the generator;
DDColor: `{'params': ...}` with the unused classification head) and read back only through
faceapp's loading gateway.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import load_golden, require_shared

from faceapp.core.colour import colorize
from faceapp.core.errors import UnsafeModelError, UnsupportedModelError
from faceapp.core.models.loading import (
    COLOUR,
    INPAINT,
    identify_model_file,
    load_colorize_model,
    load_face_model,
    load_inpaint_model,
)
from faceapp.core.repair import lama

pytestmark = pytest.mark.shared
_CALLBACK_MODULE = "pytorch_lightning.callbacks.model_checkpoint"


@pytest.fixture(scope="module", autouse=True)
def _two_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the golden outputs were produced with 2 threads
    yield
    torch.set_num_threads(before)


def _fake_lightning_class() -> type:
    """A class that pickles as Lightning's ModelCheckpoint (without Lightning installed)."""
    names = ["pytorch_lightning", "pytorch_lightning.callbacks", _CALLBACK_MODULE]
    for name in names:
        sys.modules.setdefault(name, types.ModuleType(name))
    cls = type("ModelCheckpoint", (), {"__module__": _CALLBACK_MODULE})
    sys.modules[_CALLBACK_MODULE].ModelCheckpoint = cls  # type: ignore[attr-defined]
    return cls


def _save_lightning(sd: dict, path: Path) -> None:
    """big-lama's best.ckpt layout: generator.*, evaluator nets, callbacks pickled by class."""
    callback = _fake_lightning_class()
    instance = callback()
    instance.best_model_path = "/train/models/best.ckpt"
    state = {f"generator.{k}": v for k, v in sd.items()}
    state["val_evaluator.scores.fid.model.blocks.0.0.conv.weight"] = torch.zeros(4, 3, 3, 3)
    checkpoint = {
        "epoch": 40,
        "global_step": 1000,
        "pytorch-lightning_version": "1.2.9",
        "state_dict": state,
        "callbacks": {callback: {"best_model_score": torch.tensor(0.5), "obj": instance}},
    }
    try:
        torch.save(checkpoint, path)
    finally:
        for name in ("pytorch_lightning", "pytorch_lightning.callbacks", _CALLBACK_MODULE):
            sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def lama_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict]]:
    sd, meta = load_golden("lama_big")
    path = tmp_path_factory.mktemp("lama") / "best.ckpt"
    _save_lightning(sd, path)
    del sd
    yield path, meta
    path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def lama_model(lama_file: tuple[Path, dict]):
    return load_inpaint_model(lama_file[0])


def _golden(name: str, file: str) -> np.ndarray:
    return np.load(require_shared("golden", name, file))


def _assert_close(out: np.ndarray | torch.Tensor, golden: np.ndarray, atol: float) -> None:
    out = out.numpy() if isinstance(out, torch.Tensor) else out
    assert out.shape == golden.shape
    deviation = float(np.abs(out - golden).max())
    assert deviation <= atol, f"max |diff| {deviation:.3g} > {atol}"


# ---------------------------------------------------------------------------------------------
# LaMa


def test_lama_checkpoint_is_identified(lama_file: tuple[Path, dict]) -> None:
    info = identify_model_file(lama_file[0])
    assert (info.purpose, info.arch) == (INPAINT, "LaMa")


def test_lama_logits_match_golden(lama_model, lama_file: tuple[Path, dict]) -> None:
    meta = lama_file[1]
    x = torch.from_numpy(_golden("lama_big", "input.npy"))
    mask = torch.from_numpy(_golden("lama_big", "mask.npy"))
    with torch.inference_mode():
        logits = lama_model.logits(x, mask)
        composite = lama_model(x, mask)
    outputs = meta["outputs"]
    _assert_close(
        logits, _golden("lama_big", "output_logits.npy"), outputs["output_logits"]["suggested_atol"]
    )
    _assert_close(
        composite,
        _golden("lama_big", "output_inpainted.npy"),
        outputs["output_inpainted"]["suggested_atol"],
    )


def test_lama_padded_case_matches_golden(lama_model, lama_file: tuple[Path, dict]) -> None:
    case = lama_file[1]["padded_case"]
    image = _golden("lama_big", "input.npy")[0, :, :250, :246].transpose(1, 2, 0)
    mask = _golden("lama_big", "mask.npy")[0, 0, :250, :246]
    x, mk = lama.network_inputs(image, mask)
    assert tuple(x.shape) == tuple(case["padded_to"])
    with torch.inference_mode():
        logits = lama_model.logits(x, mk)
    _assert_close(
        logits, _golden("lama_big", case["logits"]["file"]), case["logits"]["suggested_atol"]
    )
    out = lama.inpaint(lama_model, image, mask)
    golden = _golden("lama_big", case["file"])[0].transpose(1, 2, 0)
    _assert_close(out, golden, case["suggested_atol"])
    kept = mask == 0
    np.testing.assert_array_equal(out[kept], image[kept])  # the composite keeps the photo


def test_symmetric_padding_repeats_the_edge() -> None:
    chw = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
    padded = lama.pad_to_modulo(chw, 8)
    assert padded.shape == (2, 8, 8)
    np.testing.assert_array_equal(padded[:, 3, :5], chw[:, 2])  # 'reflect' would give row 1
    np.testing.assert_array_equal(padded[:, :3, 5], chw[:, :, 4])


def test_lama_is_not_a_face_model(lama_file: tuple[Path, dict]) -> None:
    with pytest.raises(UnsupportedModelError, match="LaMa inpainting model"):
        load_face_model(lama_file[0])


def test_checkpoint_needing_more_than_lightning_metadata_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "marker"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    callback = _fake_lightning_class()
    path = tmp_path / "best.ckpt"
    try:
        torch.save({"state_dict": {"w": torch.zeros(1)}, "callbacks": {callback: Payload()}}, path)
    finally:
        for name in ("pytorch_lightning", "pytorch_lightning.callbacks", _CALLBACK_MODULE):
            sys.modules.pop(name, None)
    with pytest.raises(UnsafeModelError, match="io.open"):
        load_inpaint_model(path)
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------
# DDColor


def _ddcolor_file(name: str, folder: Path) -> tuple[Path, dict]:
    sd, meta = load_golden(name)
    dim = sd["encoder.arch.norm.weight"].shape[0] if "encoder.arch.norm.weight" in sd else 768
    sd["encoder.arch.head_cls.weight"] = torch.zeros(1000, dim)  # unused by the network
    sd["encoder.arch.head_cls.bias"] = torch.zeros(1000)
    path = folder / f"{name}.pth"
    torch.save({"params": sd}, path)
    return path, meta


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict]]:
    path, meta = _ddcolor_file("ddcolor_paper_tiny", tmp_path_factory.mktemp("ddcolor"))
    yield path, meta
    path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def tiny_model(tiny_file: tuple[Path, dict]):
    return load_colorize_model(tiny_file[0])


def _check_network(model, name: str, meta: dict) -> None:
    assert not model.module.training
    with torch.inference_mode():
        ab = model(torch.from_numpy(_golden(name, "input.npy")))
    _assert_close(ab, _golden(name, "output.npy"), meta["outputs"]["output"]["suggested_atol"])


def test_ddcolor_tiny_network_matches_golden(tiny_model, tiny_file: tuple[Path, dict]) -> None:
    assert (tiny_model.arch, tiny_model.encoder) == ("DDColor", "convnext-t")
    info = identify_model_file(tiny_file[0])
    assert (info.purpose, info.arch) == (COLOUR, "DDColor-tiny")
    _check_network(tiny_model, "ddcolor_paper_tiny", tiny_file[1])


@pytest.mark.slow
def test_ddcolor_large_network_matches_golden(tmp_path: Path) -> None:
    path, meta = _ddcolor_file("ddcolor_large", tmp_path)
    model = load_colorize_model(path)
    path.unlink()
    assert (model.encoder, model.variant) == ("convnext-l", "DDColor-large")
    _check_network(model, "ddcolor_large", meta)


def test_ddcolor_pipeline_matches_golden(tiny_model, tiny_file: tuple[Path, dict]) -> None:
    case = tiny_file[1]["pipeline"]["case_b"]
    bgr8 = _golden("ddcolor_paper_tiny", case["input_file"])
    bgr = colorize.from_uint8(bgr8)
    prediction = colorize.predict(tiny_model, bgr, size=256)
    out = colorize.apply(prediction, bgr, strength=1.0)
    golden = _golden("ddcolor_paper_tiny", case["output_file"])
    _assert_close(out, golden, case["suggested_atol"])
    official8 = (np.clip(golden, 0, 1) * 255.0).round().astype(np.uint8)
    deviation = np.abs(colorize.to_uint8(out).astype(int) - official8).max()
    assert deviation <= 1  # "equals the official pipeline within one level"


def test_nearest_indices_equal_torch_interpolate() -> None:
    for in_size, out_size in [(256, 200), (256, 288), (512, 5001), (256, 512), (7, 7), (512, 97)]:
        src = torch.arange(in_size, dtype=torch.float32).reshape(1, 1, in_size, 1)
        expected = torch.nn.functional.interpolate(src, size=(out_size, 1))[0, 0, :, 0]
        np.testing.assert_array_equal(colorize.nearest_indices(in_size, out_size), expected)
