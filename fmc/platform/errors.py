"""The errors of :mod:`fmc.platform`; each names what to set or do."""

from __future__ import annotations

from fmc.errors import ConfigurationError, FMCError

__all__ = ["EncryptionKeyError", "OnboardingError", "UnknownAccountError"]


class EncryptionKeyError(ConfigurationError):
    """No encryption key, a malformed one, or none that opens a stored secret.

    The message names what to set (``FMC_ENCRYPTION_KEYS`` or the key callable);
    it never holds a key, a token or a secret.
    """


class UnknownAccountError(FMCError, LookupError):
    """No app or Page with that id is registered (or it is disconnected)."""


class OnboardingError(FMCError, ValueError):
    """A Page cannot be connected as asked; the message says why and how to fix it."""
