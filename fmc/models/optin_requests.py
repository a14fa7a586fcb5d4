"""The one-time notification request template (``one_time_notif_req``).

fmc stores and spends one-time notification tokens; this is the message that
asks the person for one. Meta's page (One-Time Notification API, beta) says
the title is limited to 65 characters and only the title and the payload may
be customised; the person's "Notify Me" tap arrives as a ``messaging_optins``
event with ``one_time_notif_token``. Meta has not published a retirement of
the API in the copies fmc checked, but its 2026 policy overview no longer
lists it: see the Platform status page.
"""

from __future__ import annotations

import attrs

from fmc.models.limits import limited

__all__ = ["OneTimeNotificationRequest"]


@attrs.frozen
class OneTimeNotificationRequest:
    """Ask the person for a one-time notification token.

    Attributes:
        title: What the person will be notified about, 1 to 65 characters.
        payload: Echoed in the opt-in event; give it the purpose's value
            (``"news"``) to tie the token to that purpose.

    Raises:
        LimitError: The title is empty or longer than 65 characters, or the
            payload is empty or longer than 1,000 characters.
    """

    title: str = attrs.field(validator=limited("OneTimeNotificationRequest.title"))
    payload: str = attrs.field(validator=limited("OneTimeNotificationRequest.payload"))
