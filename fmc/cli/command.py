"""What every ``fmc`` subcommand shares with the entry point: its streams, exit codes and type.

The subcommand modules import these names from here, and only the entry point
(:mod:`fmc.cli.entry`) imports the subcommands, so the command's modules form
no import circle.
"""

from __future__ import annotations

import argparse
import enum
from collections.abc import Callable
from typing import Any, TextIO

import attrs

from fmc.cli.config import Config

__all__ = ["AddParsers", "Command", "ExitCode", "Streams", "add_command"]


class ExitCode(enum.IntEnum):
    """What the ``fmc`` command's exit status means."""

    #: It worked.
    OK = 0
    #: It failed (a store error, an address in use, an unexpected error).
    FAILURE = 1
    #: The command line or the configuration is wrong.
    USAGE = 2
    #: The messaging policy refused the send.
    POLICY_REFUSED = 3
    #: The Graph API refused a call or could not be reached.
    GRAPH_ERROR = 4
    #: A broadcast paused on an error about the whole Page (resume it once fixed).
    PAUSED = 5
    #: Interrupted (Ctrl-C) before it finished.
    INTERRUPTED = 130
    #: Stopped by SIGTERM before it finished.
    TERMINATED = 143


@attrs.frozen
class Streams:
    """Where a command writes: results to ``out``, progress and errors to ``err``.

    Attributes:
        out: Standard output.
        err: Standard error.
    """

    out: TextIO
    err: TextIO


#: A command: runs with its parsed arguments, the configuration and the streams.
Command = Callable[[argparse.Namespace, Config, Streams], int]


#: What each subcommand module's ``add_parsers(commands, common)`` is: it adds
#: its commands to ``commands`` (the subparsers action of the ``fmc`` parser),
#: each taking the options of ``common`` (the parser holding the options every
#: command takes).
AddParsers = Callable[[Any, argparse.ArgumentParser], None]


def add_command(
    commands: Any,
    common: argparse.ArgumentParser,
    name: str,
    run: Command,
    *,
    help: str,
    description: str,
    **options: Any,
) -> argparse.ArgumentParser:
    """Add the subcommand ``name``, taking ``common``'s options and run by ``run``.

    Args:
        commands: The subparsers action of the ``fmc`` parser.
        common: The parser holding the options every command takes.
        name: The subcommand's name.
        run: What runs it (set as the parsed arguments' ``command``).
        help: Its line in ``fmc --help``.
        description: Its ``fmc NAME --help`` text.
        **options: More keyword arguments of ``add_parser``.

    Returns:
        The subcommand's parser, for its own arguments.
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        name, parents=[common], help=help, description=description, **options
    )
    parser.set_defaults(command=run)
    return parser
