"""`python -m graphdl`: the graphdl command."""

import sys

from graphdl.cli import main

sys.exit(main())
