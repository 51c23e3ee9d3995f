"""The `restore` command: one engine, many inputs, each written atomically."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from faceapp.cli.notices import warn_if_restored
from faceapp.cli.progress import ProgressBar
from faceapp.core.errors import ImageWriteError
from faceapp.core.face_settings import model_name, parse_face_settings
from faceapp.core.faces.selection import parse_selection
from faceapp.core.photo.provenance import marker
from faceapp.core.photo.reading import read_photo
from faceapp.core.photo.writing import SaveOptions, output_path_for, resolve_format, save_photo
from faceapp.core.pipeline import RestoreOptions, restore_aligned, restore_note, restore_photo


@dataclass
class RestoreCommand:
    args: object
    options: RestoreOptions
    save: SaveOptions
    engine: object
    summary: list = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> RestoreCommand:
        from faceapp.api import (
            engine_for,
            face_colour_fields,
            resolve_face_model,
            resolve_model_file,
        )
        from faceapp.cli.oldphotos import old_photo_fields

        faces = parse_selection(args.faces)
        per_face = {}
        if args.face_settings:
            per_face = parse_face_settings(args.face_settings, resolve_face_model)
        save = SaveOptions(args.format, args.quality, not args.no_metadata, args.overwrite)
        # --faces none restores no face: no restoration model is needed then
        face_path = resolve_model_file(args.model, args.model_file, default=faces != "none")
        bg_path = resolve_model_file(args.bg_model, args.bg_model_file, default=False)
        background = "model" if bg_path else (args.bg or "lanczos")
        colour_path = resolve_model_file(
            "gpen-colorization-1024" if args.face_colorize else None,
            args.face_colorize_file,
            default=False,
        )
        complete_path = resolve_model_file(
            "gpen-inpainting-1024" if args.face_complete else None,
            args.face_complete_file,
            default=False,
        )
        options = RestoreOptions(
            face_model=face_path,
            strength=args.strength,
            fidelity=args.fidelity,
            faces=faces,
            upscale=args.upscale,
            background=background,
            background_model=bg_path,
            mask=args.mask,
            **face_colour_fields(colour_path, per_face),
            face_complete_model=complete_path,
            per_face=per_face,
            **old_photo_fields(args),
        )
        return cls(args, options, save, engine_for(args.device, args.runtime, args.precision))

    def run_one(self, image: str) -> Path:
        started = time.perf_counter()
        photo = read_photo(image)
        warn_if_restored(image, photo)
        bar = ProgressBar(Path(image).name)
        try:
            if self.args.aligned:
                out, faces, restored = self._aligned(photo), [], []
                note = f"restored: {model_name(self.options.face_model)}"
            else:
                result = restore_photo(
                    self.engine, photo, self.options, bar.update, keep_background=False
                )
                out, faces = result.photo, result.faces
                restored = [r.face.index for r in result.restored]
                note = restore_note(self.options, result.restored)
        finally:
            bar.close()
        target = self._target(Path(image), photo.source_format)
        save = replace(self.save, software=marker(note))
        written = save_photo(out, target, save, source=Path(image))
        self._record(image, written, faces, restored, time.perf_counter() - started)
        return written

    def _aligned(self, photo):
        o = self.options
        return restore_aligned(self.engine, photo, o.face_model, o.strength, o.fidelity, o)

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

    def _record(self, image: str, written: Path, faces, restored, seconds: float) -> None:
        self.summary.append(
            {
                "input": image,
                "output": str(written),
                "faces": len(faces),
                "restored": restored,
                "seconds": round(seconds, 2),
            }
        )
        if not self.args.json:
            print(f"{image} -> {written} ({len(faces)} faces, {seconds:.1f} s)")

    def finish(self) -> None:
        if self.args.json:
            json.dump(self.summary, sys.stdout, indent=2)
            print()
