"""Typed errors of the core. Each carries a message written for the person using the app."""

from __future__ import annotations


class FaceappError(Exception):
    """Base class: `str(error)` is a plain-words message that can be shown as it is."""


class ImageReadError(FaceappError):
    """A file could not be read as a photo."""


class ImageWriteError(FaceappError):
    """A result could not be written."""


class ModelLoadError(FaceappError):
    """A model file could not be loaded."""


class UnsupportedModelError(ModelLoadError):
    """A file is a readable checkpoint but not of an architecture faceapp can use here."""


class UnsafeModelError(ModelLoadError):
    """A file would run code when loaded; it is refused and nothing in it runs."""


class ModelNotInstalledError(ModelLoadError):
    """A catalog model was asked for but its file is not in the model folder."""


class DownloadError(FaceappError):
    """A download failed (network, server, disk)."""


class ChecksumError(DownloadError):
    """A downloaded or imported file does not match its expected SHA-256."""


class Cancelled(FaceappError):
    """The user cancelled the job."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)
