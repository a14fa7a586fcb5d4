"""``python -m fmc.testing``: the same command as ``python -m fmc.testing.server``."""

from __future__ import annotations

import sys

from fmc.testing.server import main

if __name__ == "__main__":
    sys.exit(main())
