"""Persistent-menu items: like buttons, but with Meta's 30-character menu titles.

Meta's persistent menu takes ``postback`` and ``web_url`` items whose titles
may be 30 characters long, where a button in a message allows 20; a menu built
from :class:`~fmc.models.PostbackButton` would refuse valid titles. Pass these
to :meth:`fmc.Client.set_messenger_profile` (``persistent_menu=[...]``); fmc
writes them with their wire ``type``.
"""

from __future__ import annotations

import attrs

from fmc.models.buttons import WebviewHeightRatio, _optional_ratio
from fmc.models.limits import limited, web_url

__all__ = ["MenuItem", "MenuPostback", "MenuUrl"]


@attrs.frozen
class MenuPostback:
    """A menu item that sends a ``messaging_postbacks`` event (wire type ``postback``).

    Attributes:
        title: The item's label, 1 to 30 characters.
        payload: Sent to the webhook when tapped, at most 1,000 characters.

    Raises:
        LimitError: The title or payload is empty or too long.
    """

    title: str = attrs.field(validator=limited("MenuItem.title"))
    payload: str = attrs.field(validator=limited("MenuItem.payload"))


@attrs.frozen
class MenuUrl:
    """A menu item that opens a web page (wire type ``web_url``).

    Attributes:
        title: The item's label, 1 to 30 characters.
        url: The page to open (http or https).
        webview_height_ratio: Compact, tall or full.

    Raises:
        LimitError: The title is empty or longer than 30 characters.
        ValidationError: The URL is not http(s).
    """

    title: str = attrs.field(validator=limited("MenuItem.title"))
    url: str = attrs.field(validator=web_url)
    webview_height_ratio: WebviewHeightRatio | None = attrs.field(
        default=None, converter=_optional_ratio, kw_only=True
    )


#: Any persistent-menu item.
MenuItem = MenuPostback | MenuUrl
