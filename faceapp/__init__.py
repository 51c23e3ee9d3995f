"""faceapp: bring damaged, blurry and low-resolution photos of people back to life."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["restore", "detect", "__version__"]


def __getattr__(name: str):
    # torch is imported only when the API is first used, so `import faceapp` stays instant.
    if name in ("restore", "detect"):
        from faceapp import api

        return getattr(api, name)
    raise AttributeError(name)
