"""``python -m symcalc``: the command line (see ``symcalc --help``)."""

import sys

from .cli.main import main

sys.exit(main())
