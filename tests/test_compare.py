"""Compare models on one face: golden GPEN-256 and CodeFormer (at three fidelities) installed
as a user would; results cached, and a chosen candidate pasted with no second inference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import photo_path
from models_testkit import install_my_codeformer

from faceapp.cli import main
from faceapp.core import pipeline
from faceapp.core.compare import compare_face, contact_sheet, installed_face_models
from faceapp.core.face_settings import FaceSettings
from faceapp.core.models import store as model_store
from faceapp.core.photo.reading import read_photo, to_float

pytestmark = [pytest.mark.shared, pytest.mark.slow]


@pytest.fixture
def installed(golden_file) -> list[tuple[str, Path]]:
    model_store.import_model(golden_file("gpen_bfr_256"))
    install_my_codeformer(golden_file("codeformer"))
    return installed_face_models()


@pytest.fixture
def inferences(monkeypatch) -> list[float]:
    """Each network run, by fidelity."""
    calls: list[float] = []
    real = pipeline.run_face_model

    def counting(engine, model, crop, fidelity):
        calls.append(fidelity)
        return real(engine, model, crop, fidelity)

    monkeypatch.setattr(pipeline, "run_face_model", counting)
    return calls


def test_candidates_are_cached_and_a_choice_needs_no_inference(installed, inferences) -> None:
    from faceapp.core.runtime.engine import Engine

    assert [name for name, _ in installed] == ["gpen-bfr-256", "my-codeformer"]
    engine, photo = Engine("cpu"), read_photo(photo_path("group_photos", "deepface__couple.jpg"))
    faces = engine.detector().detect(photo.pixels)
    image, cache = to_float(photo.pixels), {}
    results = compare_face(engine, image, faces[1], installed, cache=cache, mask="oval")
    labels = [r.candidate.label for r in results]
    assert labels == [
        "gpen-bfr-256",
        "my-codeformer (fidelity 0.3)",
        "my-codeformer (fidelity 0.6)",
        "my-codeformer (fidelity 0.9)",
    ]
    assert len(inferences) == 4 and len(cache) == 4
    assert not np.allclose(results[1].restored.patch.restored, results[3].restored.patch.restored)
    again = compare_face(engine, image, faces[1], installed, cache=cache, mask="oval")
    assert [r.restored for r in again] == [r.restored for r in results]
    assert len(inferences) == 4  # all from the cache

    chosen = results[2]  # CodeFormer at 0.6 for face 1, as the window would keep it
    pasted = pipeline.compose(image, [chosen.restored], 1.0, 1)
    assert len(inferences) == 4
    settings = {1: FaceSettings(chosen.candidate.model, None, 0.6)}
    options = pipeline.RestoreOptions(face_model=None, faces="1", mask="oval", per_face=settings)
    reference = pipeline.restore_photo(engine, photo, options, faces=faces)
    assert np.array_equal(pasted, _composed(reference))
    sheet = contact_sheet(results[0].restored.crop, results)
    assert sheet.dtype == np.uint8 and sheet.shape[1] == 4 * 256 and sheet.shape[0] >= 2 * 256


def _composed(result) -> np.ndarray:
    return pipeline.compose(result.background, result.restored, 1.0, 1)


def test_the_cli_writes_each_candidate_and_a_contact_sheet(installed, tmp_path, capsys) -> None:
    source = photo_path("group_photos", "deepface__couple.jpg")
    out = tmp_path / "compare"
    args = ["compare", str(source), "--face", "0", "-o", str(out), "--json"]
    assert main([*args, "--models", "gpen-bfr-256,my-codeformer", "--fidelities", "0.3,0.9"]) == 0
    written = [Path(p).name for p in json.loads(capsys.readouterr().out)]
    assert written == [
        "gpen-bfr-256.png",
        "my-codeformer_f0.3.png",
        "my-codeformer_f0.9.png",
        "contact_sheet.png",
    ]
    assert read_photo(out / "gpen-bfr-256.png").size == (256, 256)
    assert read_photo(out / "my-codeformer_f0.3.png").restored_with is not None
    assert main(["compare", str(source), "--face", "7", "-o", str(out)]) == 1
    assert "no face #7" in capsys.readouterr().err.lower()
