"""The `restore` command: one engine, many inputs, each written atomically."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from faceapp.cli.progress import ProgressBar
from faceapp.core.errors import ImageWriteError
from faceapp.core.faces.selection import parse_selection
from faceapp.core.photo.reading import read_photo
from faceapp.core.photo.writing import SaveOptions, output_path_for, resolve_format, save_photo
from faceapp.core.pipeline import RestoreOptions, restore_aligned, restore_photo


@dataclass
class RestoreCommand:
    args: object
    options: RestoreOptions
    save: SaveOptions
    engine: object
    summary: list = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> RestoreCommand:
        from faceapp.api import engine_for, resolve_model_file

        faces = parse_selection(args.faces)
        save = SaveOptions(args.format, args.quality, not args.no_metadata, args.overwrite)
        face_path = resolve_model_file(args.model, args.model_file, default=True)
        bg_path = resolve_model_file(args.bg_model, args.bg_model_file, default=False)
        background = "model" if bg_path else (args.bg or "lanczos")
        options = RestoreOptions(
            face_model=face_path,
            strength=args.strength,
            fidelity=args.fidelity,
            faces=faces,
            upscale=args.upscale,
            background=background,
            background_model=bg_path,
            mask=args.mask,
        )
        return cls(args, options, save, engine_for(args.device, args.runtime, args.precision))

    def run_one(self, image: str) -> Path:
        started = time.perf_counter()
        photo = read_photo(image)
        bar = ProgressBar(Path(image).name)
        try:
            if self.args.aligned:
                out, faces = self._aligned(photo), []
            else:
                result = restore_photo(
                    self.engine, photo, self.options, bar.update, keep_background=False
                )
                out, faces = result.photo, result.faces
        finally:
            bar.close()
        target = self._target(Path(image), photo.source_format)
        written = save_photo(out, target, self.save, source=Path(image))
        self._record(image, written, faces, time.perf_counter() - started)
        return written

    def _aligned(self, photo):
        o = self.options
        return restore_aligned(self.engine, photo, o.face_model, o.strength, o.fidelity)

    def _target(self, image: Path, source_format: str | None) -> Path:
        if self.args.output:
            return self.args.output
        folder = self.args.output_dir
        if folder is not None and not folder.exists():
            try:
                folder.mkdir(parents=True)
            except OSError as error:
                message = f"Cannot create the folder '{folder}': {error.strerror}."
                raise ImageWriteError(message) from error
        fmt = resolve_format(self.save.format, source_format)
        return output_path_for(image, folder, fmt, self.save.overwrite)

    def _record(self, image: str, written: Path, faces, seconds: float) -> None:
        selected = [f.index for f in faces]
        self.summary.append(
            {
                "input": image,
                "output": str(written),
                "faces": len(faces),
                "restored": selected if self.options.faces == "all" else self.options.faces,
                "seconds": round(seconds, 2),
            }
        )
        if not self.args.json:
            print(f"{image} -> {written} ({len(faces)} faces, {seconds:.1f} s)")

    def finish(self) -> None:
        if self.args.json:
            json.dump(self.summary, sys.stdout, indent=2)
            print()
