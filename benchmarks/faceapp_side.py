"""faceapp's side of the benchmark: what `faceapp-cli restore` does for one photo.

read_photo -> restore_photo (one resident Engine) -> save_photo. The per-stage times come from
the progress callback (detect, restore, background, paste); aligning is part of "restore".
"""

from __future__ import annotations

from pathlib import Path

import torch

from benchmarks.golden import golden_file
from benchmarks.timing import StageClock, Stopwatch
from faceapp.core import paths
from faceapp.core.photo.reading import read_photo
from faceapp.core.photo.writing import SaveOptions, save_photo
from faceapp.core.pipeline import RestoreOptions, restore_photo
from faceapp.core.runtime.engine import Engine

# mask choice -> (golden weights, file name the catalog installs it as); "oval": no parser
PARSERS = {
    "bisenet": ("facexlib_bisenet", "parsing_bisenet.pth"),
    "parsenet": ("facexlib_parsenet", "parsing_parsenet.pth"),
}
MASKS = ("oval", *PARSERS)


def install_parser(mask: str, folder: Path) -> None:
    """Put the golden weights of the chosen face parser where faceapp looks for installed
    models (the caller points FACEAPP_MODELS_DIR at a temporary folder)."""
    if mask in PARSERS:
        name, file_name = PARSERS[mask]
        target = paths.models_dir() / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        golden_file(name, folder).replace(target)


class FaceappSide:
    def __init__(
        self,
        face_weights: Path,
        upscale: int,
        device: torch.device,
        mask: str = "oval",
        fidelity: float = 0.5,
        runtime: str = "auto",
        precision: str = "exact",
    ) -> None:
        self.engine = Engine(device, runtime, precision)
        self.options = RestoreOptions(
            face_model=face_weights,
            fidelity=fidelity,
            upscale=upscale,
            background="lanczos",
            mask="oval" if mask == "oval" else "auto",
        )
        self.save = SaveOptions(overwrite=True)

    def load_models(self) -> None:
        """What the first restore_photo would load: detector, face model, face parser."""
        self.engine.detector()
        self.engine.face_model(self.options.face_model)
        if self.options.mask == "auto" and self.engine.parser() is None:
            raise RuntimeError("the face parser could not be loaded")

    def run(self, path: Path, out_dir: Path, watch: Stopwatch) -> int:
        """The CLI's work on one photo; returns the number of faces restored."""
        with watch.stage("load"):
            photo = read_photo(path)
        clock = StageClock(watch, "detect")
        result = restore_photo(self.engine, photo, self.options, clock)
        clock.finish()
        with watch.stage("write"):
            target = out_dir / f"{path.stem}_faceapp{path.suffix}"
            save_photo(result.photo, target, self.save, source=path)
        return len(result.restored)
