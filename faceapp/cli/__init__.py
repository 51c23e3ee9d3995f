"""faceapp-cli: the command line. `main` parses and dispatches; each command has its module."""

from faceapp.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
