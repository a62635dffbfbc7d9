"""`python -m convwatch` is the `convwatch` command."""

import sys

from convwatch.cli import main

sys.exit(main())
