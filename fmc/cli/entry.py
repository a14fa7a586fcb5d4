"""The ``fmc`` command: parsing, configuration, logging and error reporting.

The entry point imports the subcommand modules; they share its streams and
exit codes through :mod:`fmc.cli.command`, never by importing this module.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

import fmc
from fmc.cli.command import AddParsers, Command, ExitCode, Streams
from fmc.cli.config import ENVIRONMENT, SECRET_SETTINGS, load_config
from fmc.errors import (
    AmbiguousSendError,
    ConfigurationError,
    FMCError,
    GraphAPIError,
    NetworkError,
    PolicyRefused,
)
from fmc.transport import redact_text

__all__ = ["Command", "ExitCode", "Streams", "build_parser", "main"]


_FLAG_SETTINGS = tuple(name for name in ENVIRONMENT if name not in SECRET_SETTINGS)

_EPILOG = """\
configuration: flags win over the environment (FMC_PAGE_ID, FMC_PAGE_TOKEN,
FMC_APP_SECRET, FMC_VERIFY_TOKEN, FMC_DB, FMC_FORWARD_ALLOW, FMC_GRAPH_URL,
FMC_PERMISSIONS, FMC_RATE_LIMIT, FMC_HONOUR, FMC_UTILITY_TEMPLATES), which
wins over the --config TOML file.
Secrets are read from the environment or the file only, never from flags.

exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 refused by the
messaging policy, 4 Graph API error, 130 interrupted.

Start with `fmc demo`: the whole flow on loopback, no Facebook account needed.
"""


#: Each configuration flag: setting name -> (metavar, help).
_CONFIG_FLAGS: dict[str, tuple[str | None, str]] = {
    "page_id": (None, "the Page's id [FMC_PAGE_ID]"),
    "db": ("PATH", "the SQLite file [FMC_DB, default ./fmc.db]"),
    "graph_url": ("URL", "the Graph API base URL, e.g. a fake [FMC_GRAPH_URL]"),
    "permissions": (
        "NAMES",
        "the Page's permissions, comma-separated [FMC_PERMISSIONS, default pages_messaging]",
    ),
    "rate_limit": ("MSGS", "messages per second at most [FMC_RATE_LIMIT]"),
    "honour": (
        "ROUTES",
        "deprecated policy routes to re-enable, comma-separated [FMC_HONOUR]",
    ),
    "utility_templates": (
        "PAIRS",
        "the Page's utility template per purpose, e.g. "
        "post_purchase_update=order_shipped, comma-separated [FMC_UTILITY_TEMPLATES]",
    ),
    "forward_allow": (
        "HOSTS",
        "hosts webhook deliveries may be forwarded to, comma-separated [FMC_FORWARD_ALLOW]",
    ),
}

#: The configuration flags each command's --help shows: only those it uses.
_FLAGS_OF = {
    "serve": ("page_id", "db", "graph_url", "permissions", "rate_limit", "forward_allow"),
    "send": (
        "page_id",
        "db",
        "graph_url",
        "permissions",
        "rate_limit",
        "honour",
        "utility_templates",
    ),
    "subscribers": ("page_id", "db"),
    "apps": ("db", "graph_url"),  # and pages, keys (fmc.cli.platform)
    "demo": (),
    "broadcast-status": ("db",),
    "worker": ("page_id", "graph_url", "permissions", "rate_limit"),
}


def _common_options(settings: Sequence[str]) -> argparse.ArgumentParser:
    """The options of a command: ``--config`` and the flags of ``settings``, and ``-v``."""
    common = argparse.ArgumentParser(add_help=False)
    if settings:
        group = common.add_argument_group("configuration")
        group.add_argument("--config", metavar="FILE", help="a TOML configuration file")
        for setting in settings:
            metavar, text = _CONFIG_FLAGS[setting]
            group.add_argument("--" + setting.replace("_", "-"), metavar=metavar, help=text)
    common.add_argument(
        "-v", "--verbose", action="store_true", help="log more, and show tracebacks of errors"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fmc`` command, with every subcommand.

    Returns:
        The parser; each subcommand sets ``command`` (a :data:`Command`).
    """
    from fmc.cli import demo, distributed, platform, send, serve, subscribers, worker

    parser = argparse.ArgumentParser(
        prog="fmc",
        description="Run a Facebook Messenger channel for a Page: serve its webhook, "
        "send, broadcast within Meta's policy, list subscribers.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fmc {fmc.__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    adders: tuple[tuple[str, AddParsers], ...] = (
        ("serve", serve.add_parsers),
        ("send", send.add_parsers),
        ("subscribers", subscribers.add_parsers),
        ("apps", platform.add_parsers),
        ("demo", demo.add_parsers),
        ("broadcast-status", distributed.add_parsers),
        ("worker", worker.add_parsers),
    )
    for name, add_parsers in adders:
        add_parsers(commands, _common_options(_FLAGS_OF[name]))
    return parser


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name, None) for name in _FLAG_SETTINGS}


@contextmanager
def _logging(stream: TextIO, verbose: bool, secrets: Sequence[str]) -> Iterator[None]:
    """Log fmc's records to ``stream`` for the command's duration, secrets masked."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_RedactingFormatter(secrets, "fmc: %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("fmc")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class _RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: Sequence[str], fmt: str) -> None:
        super().__init__(fmt)
        self._secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record), self._secrets)


def _classify(error: BaseException) -> tuple[ExitCode, str]:
    """The exit code for an error, and the one line a person reads."""
    if isinstance(error, PolicyRefused):
        return ExitCode.POLICY_REFUSED, f"refused by the messaging policy: {error}"
    if isinstance(error, ConfigurationError):
        return ExitCode.USAGE, f"configuration error: {error}"
    if isinstance(error, GraphAPIError):
        return (
            ExitCode.GRAPH_ERROR,
            f"the Graph API refused the call ({type(error).__name__}): {error}",
        )
    if isinstance(error, NetworkError):
        return (
            ExitCode.GRAPH_ERROR,
            f"cannot reach the Graph API: {error}; check the network and FMC_GRAPH_URL",
        )
    if isinstance(error, AmbiguousSendError):
        return (
            ExitCode.GRAPH_ERROR,
            f"the send may or may not have reached Meta: {error}; check before sending again",
        )
    if isinstance(error, FMCError):
        return ExitCode.FAILURE, f"{type(error).__name__}: {error}"
    if isinstance(error, OSError):
        return ExitCode.FAILURE, f"{error}"
    return ExitCode.FAILURE, f"unexpected error ({type(error).__name__}): {error}; rerun with -v"


def report_error(
    error: BaseException, streams: Streams, *, verbose: bool, secrets: Sequence[str]
) -> int:
    """Print an error as one line (and its traceback with ``verbose``), secrets masked.

    Args:
        error: The error.
        streams: Where to print (``err``).
        verbose: Also print the traceback.
        secrets: Values to mask wherever they appear.

    Returns:
        The exit code for the error.
    """
    code, line = _classify(error)
    if verbose:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        streams.err.write(redact_text(text, secrets))
    streams.err.write(f"fmc: {redact_text(line, secrets)}\n")
    streams.err.flush()
    return int(code)


def _silence(stream: TextIO) -> None:
    """Point a closed pipe's descriptor at /dev/null so the interpreter's final flush is quiet."""
    try:
        fileno = stream.fileno()
    except (OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fileno)
    finally:
        os.close(devnull)


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the ``fmc`` command.

    Args:
        argv: The arguments (``sys.argv[1:]`` when ``None``).
        environ: The environment (``os.environ`` when ``None``).
        stdout: Where results go (``sys.stdout`` when ``None``).
        stderr: Where progress and errors go (``sys.stderr`` when ``None``).

    Returns:
        The exit code (see :class:`ExitCode`).
    """
    streams = Streams(out=stdout or sys.stdout, err=stderr or sys.stderr)
    parser = build_parser()
    from fmc.cli.distributed import route

    try:
        args = parser.parse_args(route(sys.argv[1:] if argv is None else argv))
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else ExitCode.USAGE
    verbose = bool(getattr(args, "verbose", False))
    env = os.environ if environ is None else environ
    secrets: Sequence[str] = [
        env[name]
        for name in ("FMC_PAGE_TOKEN", "FMC_APP_SECRET", "FMC_VERIFY_TOKEN")
        if env.get(name)
    ]
    try:
        config = load_config(_flags(args), env, getattr(args, "config", None))
    except Exception as error:
        return report_error(error, streams, verbose=verbose, secrets=secrets)
    secrets = config.secrets
    command: Command = args.command
    with _logging(streams.err, verbose, secrets):
        if verbose and getattr(args, "uses_config", True):
            logging.getLogger("fmc.cli").info("configuration: %s", config.describe())
        try:
            return command(args, config, streams)
        except KeyboardInterrupt:
            streams.err.write("fmc: interrupted\n")
            return int(ExitCode.INTERRUPTED)
        except BrokenPipeError:
            # The reader went away (``fmc subscribers export | head``): stop quietly.
            _silence(streams.out)
            return int(ExitCode.FAILURE)
        except Exception as error:
            return report_error(error, streams, verbose=verbose, secrets=secrets)
