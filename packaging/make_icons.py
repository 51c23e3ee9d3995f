"""Render resources/icons/faceapp.svg to PNGs (16..512 px) and a multi-size Windows .ico.

Run after editing the SVG: `.venv/bin/python packaging/make_icons.py`. The macOS .icns is made on
a Mac with `iconutil` (see packaging/README.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SVG = ICONS / "faceapp.svg"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def png_path(size: int) -> Path:
    return ICONS / f"faceapp-{size}.png"


def render_pngs(svg: Path, sizes: tuple[int, ...]) -> list[Path]:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        if not image.save(str(png_path(size))):
            raise SystemExit(f"cannot write {png_path(size)}")
        written.append(png_path(size))
    return written


def write_ico(target: Path) -> None:
    """Each .ico entry drawn from the SVG at its own size (not one big image scaled down)."""
    from PIL import Image

    sizes = sorted(set(ICO_SIZES) - set(PNG_SIZES))
    extra = render_pngs(SVG, tuple(sizes))
    images = [Image.open(path).convert("RGBA") for path in map(png_path, ICO_SIZES)]
    images[-1].save(target, format="ICO", sizes=[im.size for im in images], append_images=images)
    for path in extra:
        path.unlink()


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for path in render_pngs(SVG, PNG_SIZES):
        print(path.relative_to(ICONS.parent.parent))
    write_ico(ICONS / "faceapp.ico")
    print((ICONS / "faceapp.ico").relative_to(ICONS.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
