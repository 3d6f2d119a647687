"""`python -m central`: the same as the gate-central command."""

import sys

from central.cli import main

sys.exit(main())
