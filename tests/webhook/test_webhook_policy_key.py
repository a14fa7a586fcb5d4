"""Both spellings of the policy-enforcement key parse to the same event."""

from __future__ import annotations

import json

import pytest

from fmc.webhook import PolicyEnforcementEvent, parse_events


@pytest.mark.parametrize("key", ["policy_enforcement", "policy-enforcement"])
def test_policy_enforcement_key_spellings(key: str) -> None:
    """Meta's reference (underscore) and older payloads (hyphen) give a PolicyEnforcementEvent."""
    body = {
        "object": "page",
        "entry": [
            {
                "id": "42",
                "time": 1717171717199,
                "messaging": [
                    {
                        "recipient": {"id": "42"},
                        "timestamp": 1717171716999,
                        key: {"action": "warning", "reason": "too many tags"},
                    }
                ],
            }
        ],
    }
    (event,) = parse_events(json.dumps(body).encode())
    assert isinstance(event, PolicyEnforcementEvent)
    assert (event.action, event.reason, event.sender_id) == ("warning", "too many tags", None)
