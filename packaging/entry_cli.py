"""Bundle entry point of the console `faceapp-cli` executable."""

import sys

from faceapp.cli import main

sys.exit(main())
