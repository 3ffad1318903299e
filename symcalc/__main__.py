"""``python -m symcalc``: the command line (see ``symcalc --help``)."""

import sys

from .cli import main

sys.exit(main())
