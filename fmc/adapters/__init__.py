"""Thin adapters from web server interfaces to :class:`fmc.webhook.WebhookHandler`.

Each adapter only moves bytes: it reads the method, query string, headers and
body (never more than the handler's ``max_body_bytes``), calls
:meth:`~fmc.webhook.WebhookHandler.respond` and writes the
:class:`~fmc.webhook.Response` back. Neither imports a web framework.
"""

from __future__ import annotations

__all__: list[str] = []
