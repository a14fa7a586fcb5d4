"""Where each rule of the decision table comes from: Meta's pages, with their dates.

``[C]`` marks an official Meta page (its "Updated" date when shown), ``[3p]``
what only third parties say. The rendered table and the Platform status page
show these strings, so a reader can check every rule.
"""

from __future__ import annotations

__all__ = [
    "HUMAN_AGENT_SOURCE",
    "MARKETING_SOURCE",
    "NEWS_INDEX_SOURCE",
    "OTN_SOURCE",
    "POLICY_SOURCE",
    "RECURRING_SOURCE",
    "TAGS_REMOVED_SOURCE",
    "UTILITY_SOURCE",
]

#: The standard window, tags and news messaging families.
POLICY_SOURCE = "[C] Messenger Platform policy overview (updated 28 Sep 2026)"
#: The HUMAN_AGENT tag.
HUMAN_AGENT_SOURCE = "[C] policy overview, message tags: HUMAN_AGENT (updated 28 Sep 2026)"
#: Subscription messaging limited to the News Page Index.
NEWS_INDEX_SOURCE = "[C] policy overview: news messaging, News Page Index only since 4 Mar 2020"
#: Recurring notifications closed and deprecated.
RECURRING_SOURCE = (
    "[C] Marketing messages (recurring notifications) page: closed to new clients "
    "1 Sep 2025, deprecated 10 Feb 2026 (the API reference says 12 Jan 2026)"
)
#: The three update tags.
TAGS_REMOVED_SOURCE = (
    "[3p] several independent reports: error 100 since 27 Apr 2026, utility messages "
    "as replacement; Meta's changelog entry of that date is cut in the stored copy"
)
#: Utility messages.
UTILITY_SOURCE = "[C] Send a utility message (updated 13 Mar 2026)"
#: One-time notifications.
OTN_SOURCE = "[C] One-Time Notification API (beta); not listed in the 2026 policy overview"
#: The Marketing Messages API for Messenger.
MARKETING_SOURCE = (
    "[C] Marketing Messages on Messenger, API reference (updated 24 Apr 2026): paid, "
    "opted-in people only, tech providers, region-limited"
)
