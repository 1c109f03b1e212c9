"""``python -m backend.cli`` is the ``gsv`` command."""

import sys

from . import main

sys.exit(main())
