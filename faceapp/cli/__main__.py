"""`python -m faceapp.cli` runs faceapp-cli."""

import sys

from faceapp.cli.main import main

sys.exit(main())
