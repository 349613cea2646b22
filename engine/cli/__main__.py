"""``python -m engine.cli``: the ``groove`` command."""

import sys

from engine.cli import main

sys.exit(main())
