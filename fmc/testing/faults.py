"""Faults the fake Graph API injects: what goes wrong, and when.

A :class:`Fault` says *what* goes wrong (a rate limit, a transient error, an
HTML 5xx page, a recipient who is unavailable, a malformed reply, a dropped
connection, extra latency) and *when*:

- ``ratio``: that fraction of the calls it applies to, drawn from a random
  generator seeded by the fake's ``seed`` (the same calls in the same order give
  the same faults);
- ``times``: the next *N* calls it applies to, then never again;
- ``psids``: only calls to these recipients;
- none of them: every call.

``ratio`` or ``times`` combine with ``psids`` (a fraction of the calls to those
recipients). ``per`` says what a call is: ``"send"`` is one Send API call, on its
own or as one item of a Graph batch; ``"request"`` is one HTTP request, of any
endpoint (a batch of 50 sends is one request). Dropped connections and latency
are always per request.

Faults compose: latency faults add up, and of the other faults the first one
added that fires wins (:class:`~fmc.testing.FaultInjector` draws and counts them).

Faults are also written as text, for the command line and the control
endpoint of the fake server: ``KIND[:key=value,key=value…]``, e.g.
``rate_limit:ratio=0.1``, ``unavailable:psids=111|222``,
``drop_after:times=3``, ``latency:delay=0.2,ratio=0.5``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from fmc.errors import ConfigurationError
from fmc.testing._fault_kinds import (
    DEFAULT_CODE,
    DROP_EXCEPTIONS,
    ERRORS,
    MALFORMED_SHAPES,
    OPTION_TYPES,
    PER_REQUEST_ONLY,
    FaultKind,
    FaultWhen,
    Per,
    headers,
    number_text,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["DROP_EXCEPTIONS", "MALFORMED_SHAPES", "Fault", "FaultKind", "FaultWhen", "Per"]


def _ratio(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ConfigurationError(f"Fault.{attribute.name} must be between 0 and 1, got {value}")


def _non_negative(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and value < 0:
        raise ConfigurationError(f"Fault.{attribute.name} must not be negative, got {value}")


def _psids(value: Iterable[str] | str | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset(part for part in value.split("|") if part)
    return frozenset(str(psid) for psid in value)


@attrs.frozen(kw_only=True)
class Fault:
    """One kind of failure, and the calls it applies to (see the module docstring).

    Build faults with the classmethods (:meth:`rate_limit`, :meth:`transient`,
    :meth:`server_error`, :meth:`unavailable`, :meth:`error`, :meth:`malformed`,
    :meth:`drop`, :meth:`latency`) or from text with :meth:`parse`.

    Attributes:
        kind: What goes wrong.
        ratio: The fraction of matching calls it fires on (seeded draws).
        times: Fire on the next this many matching calls only.
        psids: Only calls to these recipients (``recipient.id`` or the profile's PSID).
        per: Whether a call is one send or one HTTP request.
        code: Meta's ``error.code`` for error kinds.
        subcode: Meta's ``error.error_subcode``.
        message: Meta's ``error.message``.
        status: The HTTP status of the answer.
        is_transient: Meta's ``error.is_transient`` flag.
        error_type: Meta's ``error.type`` (``OAuthException`` when unset).
        headers: Extra response headers (``Retry-After``, usage headers).
        shape: For :attr:`FaultKind.MALFORMED`: one of :data:`MALFORMED_SHAPES`.
        delivered: For malformed replies: whether the send behind it is delivered.
        delay: For :attr:`FaultKind.LATENCY`: seconds added to the answer.
        exception: For drops in the requests-mock form: one of :data:`DROP_EXCEPTIONS`.
    """

    kind: FaultKind = attrs.field(converter=FaultKind)
    ratio: float | None = attrs.field(default=None, validator=_ratio)
    times: int | None = attrs.field(default=None, validator=_non_negative)
    psids: frozenset[str] | None = attrs.field(default=None, converter=_psids)
    per: Per = attrs.field(converter=Per)
    code: int | None = None
    subcode: int | None = None
    message: str | None = None
    status: int | None = None
    is_transient: bool | None = None
    error_type: str | None = None
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=headers)
    shape: str | None = None
    delivered: bool | None = None
    delay: float = attrs.field(default=0.0, validator=_non_negative)
    exception: str | None = None

    @per.default
    def _per_default(self) -> Per:
        return Per.REQUEST if self.kind in PER_REQUEST_ONLY else Per.SEND

    def __attrs_post_init__(self) -> None:
        if self.kind in PER_REQUEST_ONLY and self.per is not Per.REQUEST:
            raise ConfigurationError(f"a {self.kind.value} fault applies per HTTP request")
        if self.kind is FaultKind.MALFORMED and self.shape not in MALFORMED_SHAPES:
            raise ConfigurationError(
                f"a malformed fault needs shape= one of {', '.join(MALFORMED_SHAPES)}"
            )
        if self.exception is not None and self.exception not in DROP_EXCEPTIONS:
            raise ConfigurationError(f"exception= must be one of {', '.join(DROP_EXCEPTIONS)}")
        if self.kind is FaultKind.UNAVAILABLE and not self.psids:
            raise ConfigurationError("an unavailable fault needs the psids it applies to")

    # -- constructors -------------------------------------------------------------------
    # Each takes ``**when`` (:class:`FaultWhen`): ``ratio``, ``times``, ``psids``, ``per``.

    @classmethod
    def rate_limit(
        cls,
        *,
        code: int = 613,
        retry_after: float | None = None,
        usage: bool = False,
        **when: Unpack[FaultWhen],
    ) -> Fault:
        """Meta throttles: code 613 (or 4, 80006).

        Args:
            code: 613 (Send API rate limit), 4 (app limit) or 80006 (Messenger
                business-use-case limit).
            retry_after: Answer a ``Retry-After`` header with these seconds.
            usage: Answer Meta's usage headers (``X-App-Usage`` at 100 % and
                ``X-Business-Use-Case-Usage`` with ``estimated_time_to_regain_access``
                of ``retry_after`` in minutes, rounded up, at least 1).
            **when: When it fires (:class:`FaultWhen`).

        Returns:
            The fault.
        """
        headers: list[tuple[str, str]] = []
        if retry_after is not None:
            headers.append(("Retry-After", number_text(retry_after)))
        if usage:
            minutes = max(1, -(-int(retry_after or 0) // 60))
            headers.append(("X-App-Usage", '{"call_count":100,"total_cputime":35,"total_time":42}'))
            headers.append(
                (
                    "X-Business-Use-Case-Usage",
                    '{"1234567890":[{"type":"messenger","call_count":100,"total_cputime":30,'
                    f'"total_time":40,"estimated_time_to_regain_access":{minutes}}}]}}',
                )
            )
        return cls(kind=FaultKind.RATE_LIMIT, code=code, headers=headers, **when)

    @classmethod
    def transient(cls, *, code: int = 2, **when: Unpack[FaultWhen]) -> Fault:
        """A temporary failure Meta flags ``is_transient``: code 2 (HTTP 500) or 1200 (HTTP 400).

        Args:
            code: 2 or 1200.
            **when: When it fires (:class:`FaultWhen`).

        Returns:
            The fault.
        """
        return cls(kind=FaultKind.TRANSIENT, code=code, **when)

    @classmethod
    def server_error(cls, *, status: int = 502, **when: Unpack[FaultWhen]) -> Fault:
        """An HTTP 5xx answered with an HTML page, as a proxy in front of Meta would.

        Args:
            status: The HTTP status (500–599).
            **when: When it fires (:class:`FaultWhen`).

        Returns:
            The fault.
        """
        return cls(kind=FaultKind.SERVER_ERROR, status=status, **when)

    @classmethod
    def unavailable(cls, psids: Iterable[str]) -> Fault:
        """Answer 551 "This person isn't available right now." to every send to these PSIDs.

        Args:
            psids: The recipients who blocked the Page or deactivated their account.

        Returns:
            The fault.
        """
        return cls(kind=FaultKind.UNAVAILABLE, code=551, psids=psids)

    @classmethod
    def error(
        cls,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        status: int = 400,
        type: str = "OAuthException",
        is_transient: bool | None = None,
        **when: Unpack[FaultWhen],
    ) -> Fault:
        """Any other Graph error, e.g. 10/2018278 (outside the window) for chosen PSIDs.

        Args:
            code: Meta's ``error.code``.
            message: Meta's ``error.message``.
            subcode: Meta's ``error.error_subcode``.
            status: The HTTP status.
            type: Meta's ``error.type``.
            is_transient: Meta's ``error.is_transient``, when it should be present.
            **when: When it fires (:class:`FaultWhen`).

        Returns:
            The fault.
        """
        return cls(
            kind=FaultKind.ERROR,
            code=code,
            subcode=subcode,
            message=message,
            status=status,
            is_transient=is_transient,
            error_type=type,
            **when,
        )

    @classmethod
    def malformed(
        cls, shape: str, *, delivered: bool | None = None, **when: Unpack[FaultWhen]
    ) -> Fault:
        """A reply fmc cannot read, with HTTP 200.

        Args:
            shape: ``"html"`` (an HTML page), ``"empty"`` (no body), ``"truncated"``
                (the success JSON cut in half), ``"wrong_shape"`` (JSON without
                ``message_id``) or ``"error_200"`` (an error object with HTTP 200).
            delivered: Whether the send behind the reply is delivered; by default
                as :data:`MALFORMED_SHAPES` says (a truncated or wrong-shaped
                success was delivered, the others were not).
            **when: When it fires (:class:`FaultWhen`).

        Returns:
            The fault.
        """
        return cls(kind=FaultKind.MALFORMED, shape=shape, delivered=delivered, **when)

    @classmethod
    def drop(
        cls,
        *,
        after: bool,
        ratio: float | None = None,
        times: int | None = None,
        psids: Iterable[str] | None = None,
        exception: str | None = None,
    ) -> Fault:
        """Close the connection without an answer (always per HTTP request).

        Args:
            after: ``False``: before the request is processed (nothing is
                delivered); ``True``: after (the sends are delivered, the caller
                never learns it — the ambiguous case).
            ratio: Fire on this fraction of HTTP requests.
            times: Fire on the next this many HTTP requests.
            psids: Only for requests with a send to one of these recipients.
            exception: In the requests-mock form, what the caller sees: one of
                :data:`DROP_EXCEPTIONS`; by default ``connect_timeout`` before and
                ``read_timeout`` after. The loopback server resets the connection.

        Returns:
            The fault.
        """
        kind = FaultKind.DROP_AFTER if after else FaultKind.DROP_BEFORE
        return cls(kind=kind, ratio=ratio, times=times, psids=psids, exception=exception)

    @classmethod
    def latency(
        cls,
        delay: float,
        *,
        ratio: float | None = None,
        times: int | None = None,
        psids: Iterable[str] | None = None,
    ) -> Fault:
        """Add ``delay`` seconds to the answer of matching HTTP requests.

        Args:
            delay: Seconds.
            ratio: Fire on this fraction of HTTP requests.
            times: Fire on the next this many HTTP requests.
            psids: Only for requests with a send to one of these recipients.

        Returns:
            The fault.
        """
        return cls(kind=FaultKind.LATENCY, delay=delay, ratio=ratio, times=times, psids=psids)

    # -- text and JSON forms ------------------------------------------------------------

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Read a fault written as ``KIND[:key=value,…]`` (see the module docstring).

        Args:
            spec: E.g. ``"rate_limit:ratio=0.1,code=4"`` or ``"unavailable:psids=1|2"``.

        Returns:
            The fault.

        Raises:
            ConfigurationError: the text is not a fault.
        """
        kind, _, rest = spec.strip().partition(":")
        options: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in rest.split(","))):
            key, sep, value = item.partition("=")
            if not sep:
                raise ConfigurationError(f"fault option {item!r} is not key=value")
            options[key.strip()] = value.strip()
        return cls.from_dict({"kind": kind, **options})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """Build a fault from its JSON form (:meth:`to_dict`) or from parsed text.

        The keys are those of the classmethod for the kind (``after`` is implied
        by ``drop_before``/``drop_after``); values may be strings.

        Args:
            data: ``{"kind": ..., <options>}``.

        Returns:
            The fault.

        Raises:
            ConfigurationError: unknown kind or option, or a value of the wrong type.
        """
        data = dict(data)
        try:
            kind = FaultKind(data.pop("kind", None))
        except ValueError:
            kinds = ", ".join(k.value for k in FaultKind)
            raise ConfigurationError(f"fault kind must be one of {kinds}") from None
        unknown = set(data) - OPTION_TYPES.keys()
        if unknown:
            raise ConfigurationError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
        try:
            options = {key: OPTION_TYPES[key](value) for key, value in data.items()}
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"bad fault option: {exc}") from None
        if kind is FaultKind.RATE_LIMIT and ("retry_after" in options or "usage" in options):
            built = cls.rate_limit(
                code=options.pop("code", 613),
                retry_after=options.pop("retry_after", None),
                usage=options.pop("usage", False),
            )
            return attrs.evolve(built, **options)
        options.pop("retry_after", None)
        options.pop("usage", None)
        if kind in DEFAULT_CODE and "code" not in options:
            options["code"] = DEFAULT_CODE[kind]
        return cls(kind=kind, **options)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the fault: its kind and every option that is set."""
        data: dict[str, Any] = {"kind": self.kind.value, "per": self.per.value}
        for field in attrs.fields(Fault):
            value = getattr(self, field.name)
            if field.name in ("kind", "per") or value is None or value == field.default:
                continue
            if isinstance(value, frozenset):
                value = sorted(value)
            elif field.name == "headers":
                value = dict(value)
            data[field.name] = value
        return data

    # -- the answer ---------------------------------------------------------------------

    def error_fields(self) -> tuple[int, int | None, str, int, bool | None]:
        """``(code, subcode, message, HTTP status, is_transient)`` of an error fault."""
        code = self.code if self.code is not None else DEFAULT_CODE.get(self.kind, 1)
        subcode, message, status, transient = ERRORS.get(
            (self.kind, code),
            (None, f"(#{code}) An error injected by the fake Graph API", 400, None),
        )
        return (
            code,
            self.subcode if self.subcode is not None else subcode,
            self.message or message,
            self.status or status,
            self.is_transient if self.is_transient is not None else (transient or None),
        )

    @property
    def delivers(self) -> bool:
        """Whether the sends behind the faulty answer are delivered."""
        if self.kind is FaultKind.DROP_AFTER:
            return True
        if self.kind is FaultKind.MALFORMED:
            return (
                self.delivered if self.delivered is not None else MALFORMED_SHAPES[self.shape or ""]
            )
        return False
