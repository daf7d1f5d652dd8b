"""`python -m smcluster.cli`: the `smcluster` command without its console script."""

import sys

from . import main

sys.exit(main())
