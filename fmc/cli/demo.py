"""``fmc demo``: the whole flow on loopback, with no Facebook account.

It starts :mod:`fmc.testing`'s fake Graph API as a real HTTP server on
127.0.0.1 and the Page's webhook on the same code path as ``fmc serve``
(``channel.webhook`` behind :func:`fmc.adapters.wsgi.make_app` on the threaded
development server). Six people then write to the Page through signed webhook
deliveries over HTTP; they become subscribers; a news broadcast goes out under
a policy with ``pages_messaging`` only; and a reply outside the 24-hour window
is refused by the policy. Everything is written to a temporary directory,
removed at the end unless ``--keep`` names one.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

import attrs

from fmc.channel import BroadcastReport, Channel
from fmc.cli.command import Streams, add_command
from fmc.cli.config import Config
from fmc.cli.server import WebhookServer
from fmc.errors import FMCError, PolicyRefused
from fmc.models import JournalState, Page, Subscriber, SubscriberStatus, Text, UtilityTemplate
from fmc.policy import MessagingPolicy, Purpose, format_duration
from fmc.store import SQLiteStore
from fmc.testing import (
    FakeGraphAPI,
    Fault,
    echo_event,
    message_event,
    optin_event,
    read_event,
    signed_delivery,
    verification_query,
)
from fmc.transport import Client, RetryPolicy
from fmc.transport.templates import create_page_template

__all__ = ["PEOPLE", "Person", "add_parsers", "run_demo"]

PAGE_ID = "1000000000000001"
NEWS = "Breaking: our summer opening hours start on Monday."


@attrs.frozen
class Person:
    """Someone who writes to the demo Page.

    Attributes:
        psid: Their page-scoped id.
        first_name: Their name, served by the fake profile API.
        wrote_ago: How long ago they last wrote.
        says: What they wrote.
        story: One line saying what else they did.
        opted_in_news: They opted in to "news" notifications (a token).
        read_ago: They read the Page's messages this long ago (a read receipt).
        human_reply: A person answered them from the Page inbox (an echo).
        blocked: They later blocked the Page (sends to them answer 551).
    """

    psid: str
    first_name: str
    wrote_ago: timedelta
    says: str
    story: str
    opted_in_news: bool = False
    read_ago: timedelta | None = None
    human_reply: bool = False
    blocked: bool = False


#: The people of the demo.
PEOPLE: tuple[Person, ...] = (
    Person("7100000000000001", "Ana", timedelta(hours=1), "Hi! Are you open on Sunday?", ""),
    Person(
        "7100000000000002",
        "Ben",
        timedelta(hours=2),
        "Do you deliver?",
        "then blocked the Page",
        blocked=True,
    ),
    Person("7100000000000003", "Chloé", timedelta(hours=30), "Thanks, bye!", ""),
    Person(
        "7100000000000004",
        "Dev",
        timedelta(hours=30),
        "Keep me posted",
        'opted in to "news" notifications',
        opted_in_news=True,
    ),
    Person(
        "7100000000000005",
        "Eli",
        timedelta(hours=26),
        "What is the price?",
        "read our answer 1 h ago",
        read_ago=timedelta(hours=1),
    ),
    Person(
        "7100000000000006",
        "Fay",
        timedelta(minutes=45),
        "Can I talk to someone?",
        "a human answered from the Page inbox",
        human_reply=True,
    ),
)


def _events(person: Person, now: datetime) -> list[dict[str, Any]]:
    wrote = now - person.wrote_ago
    events = [message_event(person.psid, person.says, page_id=PAGE_ID, timestamp=wrote)]
    if person.opted_in_news:
        events.append(
            optin_event(
                person.psid,
                page_id=PAGE_ID,
                timestamp=wrote + timedelta(minutes=1),
                payload="news",
                title="Get our news",
                frequency="DAILY",
                token_expiry=now + timedelta(days=180),
            )
        )
    if person.read_ago is not None:
        events.append(
            read_event(
                person.psid, now - person.read_ago, page_id=PAGE_ID, timestamp=now - person.read_ago
            )
        )
    if person.human_reply:
        events.append(
            echo_event(
                person.psid,
                "Sure, I'm here.",
                page_id=PAGE_ID,
                timestamp=wrote + timedelta(minutes=2),
                app_id=None,
            )
        )
    return events


def _post(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    # The URL is the demo's own loopback server.
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return int(response.status)


def _handshake(url: str, verify_token: str) -> bool:
    query = urlencode(verification_query(verify_token, challenge="demo-challenge"))
    with urllib.request.urlopen(f"{url}?{query}", timeout=10) as response:  # noqa: S310
        return bool(response.read() == b"demo-challenge")


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "-"
    return f"{format_duration(max(now - when, timedelta(0)))} ago"


@contextmanager
def _workdir(keep: str | None) -> Iterator[Path]:
    if keep is not None:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="fmc-demo-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class _Printer:
    def __init__(self, out: TextIO, quiet: bool) -> None:
        self._out = out
        self._quiet = quiet

    def detail(self, line: str = "") -> None:
        if not self._quiet:
            print(line, file=self._out)

    def always(self, line: str = "") -> None:
        print(line, file=self._out)


_OUTSIDE_WINDOW = "outside_window_no_subscription"

#: The demo's outcomes in words: a policy rule code, or an error kind.
IN_WORDS = {
    _OUTSIDE_WINDOW: "they last wrote over 24 h ago; outside that window a news message needs "
    "a Page in Meta's News Page Index or a one-time notification token the person asked for; "
    "Dev's recurring notification token no longer counts (Meta deprecated recurring "
    "notifications in February 2026)",
    "unavailable": "Meta said earlier that they cannot be reached, so nothing is sent to them",
    "RecipientUnavailableError": "Meta answered error 551 (they blocked the Page or left "
    "Messenger), so fmc marked them unavailable and skips them from now on",
}

#: What the demo suggests at its end.
TRY_NEXT = (
    "Try next: fmc demo --keep DIR, then FMC_PAGE_ID=1000000000000001 FMC_DB=DIR/fmc.db "
    "fmc subscribers (the command-line guide sends and broadcasts against the fake; "
    '"From Facebook app to first broadcast" connects your own Page)',
)


def run_demo(out: TextIO, *, keep: str | None = None, quiet: bool = False) -> int:
    """Run the demo and print what happens.

    Args:
        out: Where to print.
        keep: Keep the SQLite file and a JSON record of the deliveries in this
            directory (created if needed); a temporary directory is used and
            removed otherwise.
        quiet: Print only the broadcast report and the final line.

    Returns:
        0 (the exit code); failures raise.

    Raises:
        FMCError: A step failed (it should not: everything is on loopback).
    """
    started = time.monotonic()
    say = _Printer(out, quiet)
    app_secret = secrets.token_hex(16)
    verify_token = secrets.token_hex(8)
    page_token = "EAAdemo" + secrets.token_hex(16)
    blocked = [p.psid for p in PEOPLE if p.blocked]
    fake = FakeGraphAPI(
        page_id=PAGE_ID,
        page_name="Demo Bakery",
        access_token=page_token,
        app_secret=app_secret,
        faults=[Fault.unavailable(blocked)],
        users={p.psid: {"first_name": p.first_name, "last_name": "Demo"} for p in PEOPLE},
    )
    with _workdir(keep) as workdir, ExitStack() as stack:
        graph = stack.enter_context(fake.server())
        page = Page(id=PAGE_ID, access_token=page_token, app_secret=app_secret, name="Demo Bakery")
        client = stack.enter_context(
            Client(page, base_url=graph.url, retry=RetryPolicy(attempts=2, wait_jitter=0.0))
        )
        store = stack.enter_context(SQLiteStore(workdir / "fmc.db"))
        channel = Channel(
            page,
            client=client,
            store=store,
            # The 2026 rules: updates outside the window go as a utility template
            # where the Page has one (post-purchase here), and nowhere else.
            policy=MessagingPolicy(
                permissions={"pages_messaging"},
                utility_templates={Purpose.POST_PURCHASE_UPDATE: "order_shipped"},
            ),
            verify_token=verify_token,
        )
        webhook = stack.enter_context(WebhookServer(channel.webhook, host="127.0.0.1", port=0))
        if not _handshake(webhook.url, verify_token):
            raise FMCError("the demo webhook did not answer the handshake")
        say.detail("fmc demo: a Page on loopback, no Facebook account needed")
        say.detail(f"  fake Graph API {graph.url}   webhook {webhook.url} (handshake ok)")
        say.detail(f"  store {workdir / 'fmc.db'}")

        # Whole seconds, so the times stored (epoch milliseconds) read back exactly.
        now = datetime.now(timezone.utc).replace(microsecond=0)
        say.detail()
        say.detail(
            f"1. {len(PEOPLE)} people write to the Page (signed webhook deliveries over HTTP)"
        )
        for person in PEOPLE:
            body, headers = signed_delivery(_events(person, now), app_secret, page_id=PAGE_ID)
            status = _post(webhook.url, body, headers)
            if status != 200:
                raise FMCError(f"the webhook answered {status} to {person.first_name}'s delivery")
            story = f", {person.story}" if person.story else ""
            say.detail(
                f"   {person.first_name:<6} wrote {format_duration(person.wrote_ago)} ago"
                f" {person.says!r}{story}"
            )
        for person in PEOPLE:
            profile = client.get_user_profile(person.psid, fields=("first_name",))
            store.update_profile(PAGE_ID, person.psid, name=profile.first_name)

        say.detail()
        say.detail("2. Registered subscribers (from the webhook, in the SQLite store)")
        say.detail(f"   {'name':<6} {'psid':<17} {'status':<7} {'last interaction':<17} tokens")
        for subscriber in store.iter_subscribers(PAGE_ID):
            say.detail(
                f"   {subscriber.name or '?':<6} {subscriber.psid:<17} "
                f"{subscriber.status.value:<7} {_ago(subscriber.last_interaction_at, now):<17} "
                f"{', '.join(t.topic or t.kind.value for t in subscriber.tokens) or '-'}"
            )

        say.detail()
        say.detail("3. A news broadcast under a policy with pages_messaging only")
        report = channel.broadcast(Text(NEWS), Purpose.NEWS)
        _print_report(say, report, fake, store, now)

        say.detail()
        late = next(p for p in PEOPLE if p.wrote_ago > timedelta(hours=24) and not p.opted_in_news)
        say.detail(
            f"4. To {late.first_name}, outside the 24 h window: a reply, then updates "
            "under the 2026 rules"
        )
        try:
            channel.notify(late.psid, Text("Sorry for the late answer!"), Purpose.RESPONSE)
        except PolicyRefused as refused:
            say.detail(f"   reply: PolicyRefused: {refused.decision.reason}")
        else:
            raise FMCError("the policy allowed a reply outside the window")

        create_page_template(
            client, "order_shipped", "Hi {{1}}, order {{2}} has shipped.", examples=["Ana", "A-1"]
        )
        shipped = UtilityTemplate("order_shipped", parameters=[late.first_name, "A-1042"])
        channel.notify(late.psid, shipped, Purpose.POST_PURCHASE_UPDATE)
        say.detail("   post-purchase update: sent as a utility message (template order_shipped)")
        try:
            channel.notify(late.psid, Text("Your password was changed."), Purpose.ACCOUNT_UPDATE)
        except PolicyRefused as refused:
            say.detail(f"   account update: PolicyRefused: {refused.decision.reason}")
        else:
            raise FMCError("the policy allowed an account update without a utility template")

        if keep is not None:
            record = [d.to_dict() for d in fake.deliveries]
            (workdir / "deliveries.json").write_text(
                json.dumps(record, indent=2, default=str), encoding="utf-8"
            )
    where = f"kept in {keep}" if keep is not None else "temporary files removed"
    say.always()
    say.always(f"Done in {time.monotonic() - started:.1f} s: both servers stopped, {where}.")
    for line in TRY_NEXT:
        say.detail(line)
    return 0


def _print_report(
    say: _Printer, report: BroadcastReport, fake: FakeGraphAPI, store: SQLiteStore, now: datetime
) -> None:
    subscribers: dict[str, Subscriber] = {s.psid: s for s in store.iter_subscribers(PAGE_ID)}
    owner_of_token = {token.token: s.psid for s in subscribers.values() for token in s.tokens}

    def name(psid: str) -> str:
        found = subscribers.get(psid)
        return (found.name if found is not None else None) or psid

    for line in report.summary().splitlines():
        say.always(f"   {line}")
    got = []
    for delivery in fake.deliveries:
        if delivery.text != NEWS:
            continue
        if delivery.psid is not None:
            got.append(name(delivery.psid))
        else:
            got.append(
                f"{name(owner_of_token.get(delivery.recipient_key, '?'))} (by notification token)"
            )
    say.always(f"   got it:      {', '.join(sorted(got)) or 'nobody'}")
    skipped = [
        f"{name(entry.psid)} (wrote {_ago(subscribers[entry.psid].last_interaction_at, now)})"
        for entry in store.journal_entries(report.broadcast_id, states={JournalState.SKIPPED})
        if entry.psid in subscribers
    ]
    say.always(f"   skipped:     {', '.join(skipped) or 'nobody'}")
    unavailable = list(store.iter_subscribers(PAGE_ID, status=SubscriberStatus.UNAVAILABLE))
    for subscriber in unavailable:
        # The first part of Meta's answer; the code and trace id follow in the store.
        why = (subscriber.status_reason or "per Meta").split(" code=")[0]
        say.always(f"   unavailable: {name(subscriber.psid)}, now marked so: {why}")
    for rule in sorted(report.skipped):
        words = IN_WORDS.get(rule, report.skip_reasons.get(rule, rule))
        who = [s.split(" (")[0] for s in skipped] if rule == _OUTSIDE_WINDOW else []
        say.detail(f"   why {', '.join(who) or rule}: {words}")
    if unavailable:
        names = ", ".join(name(s.psid) for s in unavailable)
        say.detail(f"   why {names}: {IN_WORDS['RecipientUnavailableError']}")


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``demo`` to the command's subparsers.

    Args:
        commands: The subparsers action of the ``fmc`` parser.
        common: The parser holding the options every command takes (only
            ``--verbose`` matters to the demo: it uses no configuration).
    """
    parser = add_command(
        commands,
        common,
        "demo",
        _run,
        help="the whole flow on loopback, no Facebook account needed",
        description="Start a fake Graph API and the webhook on 127.0.0.1, play six people "
        "writing to a Page, register them, run a news broadcast under the messaging policy "
        "and print who got it and who was skipped and why, in words, then show the 2026 "
        "rules for updates outside the window. Takes well under a second, leaves nothing "
        "running, writes only to a temporary directory.",
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="write the SQLite file and the fake's deliveries.json to DIR and keep them",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the broadcast report")
    parser.add_argument(
        "--platform",
        action="store_true",
        help="instead, two businesses (two apps, three Pages) served by one platform endpoint",
    )
    parser.set_defaults(uses_config=False)


def _run(args: argparse.Namespace, config: Config, streams: Streams) -> int:
    if args.platform:
        from fmc.cli.demo_platform import run_platform_demo

        return run_platform_demo(streams.out)
    return run_demo(streams.out, keep=args.keep, quiet=args.quiet)
