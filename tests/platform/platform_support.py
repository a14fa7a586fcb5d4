"""Values the platform tests share."""

from __future__ import annotations

from fmc.platform import KeyRing

#: Fixed keys so tests can reopen a database with the same or other keys.
KEY_A = KeyRing.generate_key()
KEY_B = KeyRing.generate_key()
