"""``fmc send`` and ``fmc broadcast``: messages that go through the messaging policy."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Any

from fmc.channel import UtilityTemplateRequired
from fmc.cli.broadcast import run_broadcast
from fmc.cli.command import ExitCode, Streams, add_command
from fmc.cli.config import Config
from fmc.cli.context import open_channel, open_store
from fmc.errors import ConfigurationError, RecipientUnavailableError
from fmc.models import Text
from fmc.platform.plans import plan_page
from fmc.policy import Purpose
from fmc.transport import MAX_BATCH_SIZE

__all__ = ["add_parsers", "dry_run", "run_send"]

_PURPOSES = ", ".join(purpose.value for purpose in Purpose)


def _purpose(text: str) -> Purpose:
    try:
        return Purpose.parse(text)
    except ConfigurationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _batch_size(text: str) -> int:
    value = _positive(text)
    if value > MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"a Graph batch holds at most {MAX_BATCH_SIZE} sends")
    return value


def _text(value: str) -> Text:
    try:
        return Text(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``send`` and ``broadcast`` to the command's subparsers.

    Args:
        commands: The subparsers action of the ``fmc`` parser.
        common: The parser holding the options every command takes.
    """
    send = add_command(
        commands,
        common,
        "send",
        run_send,
        help="send one message to one person, if the policy allows it",
        description="Send one text message to a subscriber through the messaging policy. "
        "A refusal prints the policy's reason and exits with status 3.",
    )
    send.add_argument("psid", metavar="PSID", help="the person's page-scoped id")
    send.add_argument("--text", required=True, type=_text, help="the message text")
    send.add_argument(
        "--purpose",
        type=_purpose,
        default=Purpose.RESPONSE,
        help=f"why it is sent: {_PURPOSES} [response]",
    )
    send.add_argument(
        "--template-value",
        dest="template_values",
        action="append",
        metavar="VALUE",
        help="a value of the utility template, in order (repeat it); used when the policy "
        "sends the purpose as the template set in utility_templates",
    )

    broadcast = add_command(
        commands,
        common,
        "broadcast",
        run_broadcast,
        help="send one message to every subscriber the policy allows (resumable)",
        description="Send one text message to every subscriber the messaging policy allows, "
        "journaled so that --resume ID finishes an interrupted broadcast without sending "
        "anyone the message twice. Progress goes to stderr, the report to stdout.",
    )
    broadcast.add_argument("--text", required=True, type=_text, help="the message text")
    broadcast.add_argument(
        "--purpose", type=_purpose, required=True, help=f"why it is sent: {_PURPOSES}"
    )
    broadcast.add_argument(
        "--dry-run",
        action="store_true",
        help="send nothing: say what the policy would do, with counts per rule",
    )
    broadcast.add_argument(
        "--resume", metavar="ID", help="resume the broadcast with this id (same text and purpose)"
    )
    broadcast.add_argument(
        "--batch-size", type=_batch_size, metavar="N", help="sends per Graph batch request (≤ 50)"
    )
    broadcast.add_argument(
        "--concurrency", type=_positive, metavar="N", help="HTTP requests in flight"
    )
    broadcast.add_argument(
        "--at-least-once",
        action="store_true",
        help="on resume, resend to people whose earlier send was ambiguous (may duplicate)",
    )
    broadcast.add_argument(
        "--again",
        action="store_true",
        help="start a new broadcast even if the same text and purpose went to every "
        "subscriber within the last 24 hours (by default that one is resumed)",
    )
    pages = broadcast.add_mutually_exclusive_group()
    pages.add_argument(
        "--page",
        action="append",
        metavar="ID",
        help="a Page connected with `fmc pages connect` (repeatable): one broadcast per Page",
    )
    pages.add_argument(
        "--all-pages", action="store_true", help="every Page connected with `fmc pages connect`"
    )


def run_send(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    """Run ``fmc send``: one message, through the policy.

    Args:
        args: The parsed arguments (``psid``, ``text``, ``purpose``,
            ``template_values``).
        config: The configuration.
        streams: Where to write.

    Returns:
        The exit code.

    Raises:
        PolicyRefused: The policy does not allow it (exit status 3).
        GraphAPIError: Meta refused the send (exit status 4).
    """
    with open_channel(config, create=False) as channel:
        try:
            result = channel.notify(
                args.psid, args.text, args.purpose, template_parameters=args.template_values
            )
        except UtilityTemplateRequired:
            streams.err.write("fmc: give the template's values with --template-value VALUE\n")
            raise
        except RecipientUnavailableError:
            streams.err.write(f"fmc: {args.psid} is now marked unavailable\n")
            raise
    streams.out.write(f"sent to {args.psid}: message id {result.message_id}\n")
    return int(ExitCode.OK)


def dry_run(config: Config, purpose: Purpose, streams: Streams) -> int:
    """Judge every subscriber by the policy without sending, and print counts per rule.

    Args:
        config: The configuration (``page_id``, ``db``, ``permissions``).
        purpose: The purpose of the broadcast.
        streams: Where to write.

    Returns:
        The exit code.
    """
    config.require("page_id")
    assert config.page_id is not None
    with open_store(config, create=False) as store:
        plan = plan_page(
            config.page_id,
            store.iter_subscribers(config.page_id),
            config.policy(),
            purpose,
            datetime.now(timezone.utc),
        )
    lines = [f"dry run ({purpose.value}, nothing sent): {plan.counts()}", *plan.rule_lines()]
    streams.out.write("".join(line + "\n" for line in lines))
    return int(ExitCode.OK)
