"""evaluate: PSNR, SSIM and UQI checked against values computed independently here, window by
window, from the papers' formulas."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import photo_path
from PIL import Image

from faceapp.cli import main
from faceapp.core.errors import FaceappError
from faceapp.core.evaluation import scores, uqi


def _pair(seed: int = 3, shape=(20, 24, 3)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    original = rng.random(shape)
    restored = np.clip(0.8 * original + 0.1 + rng.normal(0, 0.05, shape), 0, 1)
    return restored, original


def _brute_uqi(x: np.ndarray, y: np.ndarray, k: int = 8) -> float:
    """Wang & Bovik (2002), every k x k window position, sample statistics."""
    values = []
    for c in range(x.shape[2]):
        for i in range(x.shape[0] - k + 1):
            for j in range(x.shape[1] - k + 1):
                a, b = x[i : i + k, j : j + k, c].ravel(), y[i : i + k, j : j + k, c].ravel()
                cov = np.cov(a, b)  # sample (N - 1) statistics
                q = 4 * cov[0, 1] * a.mean() * b.mean()
                q /= (cov[0, 0] + cov[1, 1]) * (a.mean() ** 2 + b.mean() ** 2)
                values.append(q)
    return float(np.mean(values))


def _brute_ssim(x: np.ndarray, y: np.ndarray, k: int = 7) -> float:
    """SSIM (Wang et al. 2004) with 7 x 7 uniform windows and sample covariance, averaged over
    the windows fully inside the image and over the channels."""
    c1, c2 = (0.01 * 1.0) ** 2, (0.03 * 1.0) ** 2
    values = []
    for c in range(x.shape[2]):
        for i in range(x.shape[0] - k + 1):
            for j in range(x.shape[1] - k + 1):
                a, b = x[i : i + k, j : j + k, c].ravel(), y[i : i + k, j : j + k, c].ravel()
                cov = np.cov(a, b)
                ma, mb = a.mean(), b.mean()
                num = (2 * ma * mb + c1) * (2 * cov[0, 1] + c2)
                values.append(num / ((ma**2 + mb**2 + c1) * (cov[0, 0] + cov[1, 1] + c2)))
    return float(np.mean(values))


def test_scores_match_an_independent_computation() -> None:
    restored, original = _pair()
    s = scores(restored.astype(np.float32), original.astype(np.float32))
    mse = np.mean((restored - original) ** 2)
    assert s.psnr == pytest.approx(10 * np.log10(1 / mse), abs=1e-4)
    assert s.ssim == pytest.approx(_brute_ssim(restored, original), abs=1e-4)
    assert s.uqi == pytest.approx(_brute_uqi(restored, original), abs=1e-6)
    assert 0 < s.uqi < 1 and 0 < s.ssim < 1


def test_known_values() -> None:
    original = np.full((16, 16, 3), 0.5)
    assert scores(original + 0.1, original).psnr == pytest.approx(20.0)  # MSE 0.01
    restored, original = _pair()
    same = scores(original, original)
    assert same.ssim == pytest.approx(1.0) and same.uqi == pytest.approx(1.0)
    assert same.psnr == float("inf") and same.to_dict()["psnr"] is None
    assert uqi(original, -original + 1) < 0  # inverted contrast
    flat = np.full((8, 8, 1), 0.5)
    assert uqi(flat, flat) == 1.0 and uqi(flat, flat * 0.5) == pytest.approx(0.8)


def test_sizes_must_match() -> None:
    with pytest.raises(FaceappError, match="differ in size"):
        scores(np.zeros((8, 8, 3)), np.zeros((8, 9, 3)))


def test_the_cli_prints_json(tmp_path: Path, capsys) -> None:
    restored, original = _pair(shape=(32, 40, 3))
    paths = []
    for name, image in (("r.png", restored), ("o.png", original)):
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(tmp_path / name)
        paths.append(str(tmp_path / name))
    assert main(["evaluate", *paths, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    eight_bit = [np.round(a * 255) / 255 for a in (restored, original)]
    assert report["image"]["uqi"] == pytest.approx(_brute_uqi(*eight_bit), abs=1e-4)
    assert report["image"]["ssim"] == pytest.approx(_brute_ssim(*eight_bit), abs=1e-4)
    assert main(["evaluate", paths[0], str(tmp_path / "missing.png")]) == 1


@pytest.mark.shared
@pytest.mark.slow
def test_faces_are_compared_pair_by_pair(tmp_path: Path, capsys) -> None:
    """A copy degraded on the left half only: the left face scores lower than the right."""
    source = photo_path("group_photos", "deepface__couple.jpg")
    original = np.asarray(Image.open(source).convert("RGB"))
    degraded = original.copy()
    half = original.shape[1] // 2
    degraded[:, :half] = np.asarray(
        Image.fromarray(original[:, :half]).reduce(4).resize((half, original.shape[0]))
    )
    target = tmp_path / "degraded.png"
    Image.fromarray(degraded).save(target)
    assert main(["evaluate", str(target), str(source), "--faces", "--json"]) == 0
    faces = json.loads(capsys.readouterr().out)["faces"]
    assert len(faces) == 2
    left, right = faces  # reading order: left to right
    right_psnr = float("inf") if right["psnr"] is None else right["psnr"]  # None: identical
    assert left["psnr"] < 35 < right_psnr and left["ssim"] < right["ssim"]
    assert left["uqi"] < right["uqi"]
