"""Only what pyproject.toml cannot say: the repository's resources/ folder (icons, the shipped
face detector and its licence, the desktop file) is installed as the package
``faceapp.resources``, so that wheels, ``pip install .`` and ``pipx install`` ship it.
Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["faceapp", "faceapp.*"]), "faceapp.resources"],
    package_dir={"faceapp.resources": "resources"},
    package_data={
        "faceapp.resources": [
            "LICENSE-retinaface.txt",
            "faceapp.desktop",
            "icons/*.png",
            "icons/*.svg",
            "icons/*.ico",
            "weights/*.pth",
        ]
    },
)
