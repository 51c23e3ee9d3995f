"""Only what pyproject.toml cannot say: the repository's resources/ folder (icons, the shipped
face detector and its licence, the desktop file) is installed as the package
``faceapp.resources``, so that wheels, ``pip install .`` and ``pipx install`` ship it.
Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

RESOURCES = {  # package (a folder of resources/) -> the files it ships
    "faceapp.resources": ["LICENSE-retinaface.txt", "faceapp.desktop"],
    "faceapp.resources.icons": ["*.png", "*.svg", "*.ico"],
    "faceapp.resources.weights": ["*.pth"],
}

setup(
    packages=[*find_packages(include=["faceapp", "faceapp.*"]), *RESOURCES],
    package_dir={"faceapp.resources": "resources"},
    package_data=RESOURCES,
)
