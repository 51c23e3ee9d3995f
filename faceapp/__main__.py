"""`python -m faceapp` opens the window (the command line is `faceapp-cli`)."""

import sys

from faceapp.gui.app import main

sys.exit(main())
