"""`python -m mimamori ...`: the same command as the installed `mimamori`."""

import sys

from mimamori.cli import main

sys.exit(main())
