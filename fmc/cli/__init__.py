"""The ``fmc`` command: ``serve``, ``send``, ``broadcast``, ``subscribers`` and ``demo``.

Run ``fmc --help`` (or ``python -m fmc.cli --help``); the command-line guide in
the docs describes every command, the configuration and the exit codes.
"""

from __future__ import annotations

from fmc.cli.config import Config, load_config
from fmc.cli.entry import ExitCode, main

__all__ = ["Config", "ExitCode", "load_config", "main"]
