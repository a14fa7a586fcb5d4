"""The parts of webhook events: attachments, shared locations, referrals."""

from __future__ import annotations

import warnings
from typing import Any

import attrs

from fmc.webhook.shape import ShapeError, obj, opt_id, opt_list, opt_number, opt_str, req_str

__all__ = [
    "Coordinates",
    "ReceivedAttachment",
    "Referral",
    "read_attachments",
    "read_quick_reply_payload",
    "read_referral",
]


@attrs.frozen
class Coordinates:
    """A shared location.

    Attributes:
        lat: Latitude in degrees.
        long: Longitude in degrees.
    """

    lat: float
    long: float


@attrs.frozen(kw_only=True)
class ReceivedAttachment:
    """One attachment of a message the Page received, or of an echo of one it sent.

    Named apart from the outgoing :class:`fmc.Attachment`, a message part to
    send; ``fmc.webhook.Attachment`` is its deprecated name (removed in the next release).

    Attributes:
        type: ``image``, ``audio``, ``video``, ``file``, ``location``, ``fallback``,
            ``template`` or any newer type Meta sends.
        payload: The attachment's ``payload`` object as received (empty when absent).
        url: ``payload.url`` for media, or the ``url`` of a ``fallback`` attachment.
        title: The ``title`` of a ``fallback`` or ``location`` attachment.
        coordinates: ``payload.coordinates`` of a ``location`` attachment.
        sticker_id: ``payload.sticker_id`` when the image is a sticker.
    """

    type: str
    payload: dict[str, Any] = attrs.field(factory=dict, repr=False)
    url: str | None = None
    title: str | None = None
    coordinates: Coordinates | None = None
    sticker_id: int | None = None


@attrs.frozen(kw_only=True)
class Referral:
    """Where a conversation came from (m.me link, ad, plugin, shop).

    Attributes:
        ref: The ``ref`` parameter of the link or plugin.
        source: ``SHORTLINK``, ``ADS``, ``CUSTOMER_CHAT_PLUGIN`` ...
        type: ``OPEN_THREAD`` for most referrals.
        ad_id: The ad, when ``source`` is ``ADS``.
        referer_uri: The page the plugin was on.
    """

    ref: str | None = None
    source: str | None = None
    type: str | None = None
    ad_id: str | None = None
    referer_uri: str | None = None


def _coordinates(payload: dict[str, Any]) -> Coordinates | None:
    raw = payload.get("coordinates")
    if raw is None:
        return None
    coords = obj(raw, "coordinates")
    lat = opt_number(coords, "lat")
    long = opt_number(coords, "long")
    if lat is None or long is None:
        raise ShapeError("coordinates need lat and long")
    return Coordinates(lat, long)


def _attachment(raw: Any) -> ReceivedAttachment:
    att = obj(raw, "attachment")
    payload_raw = att.get("payload")
    payload = {} if payload_raw is None else obj(payload_raw, "attachment payload")
    url = opt_str(payload, "url") or opt_str(att, "url") or opt_str(att, "URL")
    # The ``sticker`` attachment (June 2026) carries ``sticker_id``; older
    # image attachments carried it in the payload too.
    sticker = payload.get("sticker_id", att.get("sticker_id"))
    if type(sticker) is str and sticker.isdigit():
        sticker = int(sticker)
    if sticker is not None and type(sticker) is not int:
        raise ShapeError("sticker_id must be an integer")
    return ReceivedAttachment(
        type=req_str(att, "type"),
        payload=payload,
        url=url,
        title=opt_str(att, "title") or opt_str(payload, "title"),
        coordinates=_coordinates(payload),
        sticker_id=sticker,
    )


def read_attachments(message: dict[str, Any]) -> tuple[ReceivedAttachment, ...]:
    """A message's ``attachments``, in order (none when absent)."""
    return tuple([_attachment(att) for att in opt_list(message, "attachments")])


def read_referral(raw: Any) -> Referral:
    """A ``referral`` object."""
    ref = obj(raw, "referral")
    return Referral(
        ref=opt_str(ref, "ref"),
        source=opt_str(ref, "source"),
        type=opt_str(ref, "type"),
        ad_id=opt_id(ref, "ad_id"),
        referer_uri=opt_str(ref, "referer_uri"),
    )


def read_quick_reply_payload(message: dict[str, Any]) -> str | None:
    """The payload of a message's ``quick_reply``, if any."""
    quick_reply = message.get("quick_reply")
    if quick_reply is None:
        return None
    return opt_str(obj(quick_reply, "quick_reply"), "payload")


def __getattr__(name: str) -> Any:
    if name == "Attachment":
        warnings.warn(
            "fmc.webhook.parts.Attachment is deprecated and will be removed in the next "
            "release; use fmc.webhook.ReceivedAttachment",
            DeprecationWarning,
            stacklevel=2,
        )
        return ReceivedAttachment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
