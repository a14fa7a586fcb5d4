"""``python -m fmc.cli``: the same as the ``fmc`` command."""

from __future__ import annotations

import sys

from fmc.cli import main

sys.exit(main())
