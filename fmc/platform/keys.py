"""The keys that seal app secrets and Page tokens at rest (Fernet / MultiFernet).

Keys come newest first: the first one seals, every one opens, so a new key is
put in front, :func:`fmc.platform.Platform.rotate_keys` (``fmc keys rotate``)
re-seals everything with it, and then the old key can be dropped. Keys are
given explicitly: a list, a callable the operator supplies (e.g. one that asks
a KMS), read when the ring is made, or :meth:`KeyRing.from_env` over an
environment mapping the caller passes (the ``fmc`` command passes the one
``main(environ=...)`` was given); nothing here reads ``os.environ``. Needs the
``platform`` extra (``cryptography``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fmc.platform.errors import EncryptionKeyError

__all__ = ["KEYS_ENV", "KeyRing", "KeySource", "keys_of"]

#: The environment variable holding the keys, comma-separated, newest first.
KEYS_ENV = "FMC_ENCRYPTION_KEYS"

#: Keys, or a callable returning them (asked once, when the ring is made).
KeySource = str | Sequence[str | bytes] | Callable[[], Sequence[str | bytes]]


def keys_of(text: str) -> list[str]:
    """The keys in a comma-separated value (``FMC_ENCRYPTION_KEYS``), blanks dropped."""
    return [key.strip() for key in text.split(",") if key.strip()]


def _fernet() -> Any:
    try:
        from cryptography import fernet
    except ImportError:
        raise EncryptionKeyError(
            "fmc.platform encrypts secrets with the cryptography package: "
            "pip install 'fmc-messenger[platform]'"
        ) from None
    return fernet


class KeyRing:
    """Seals and opens secrets with one or more Fernet keys, newest first.

    Args:
        keys: The keys (url-safe base64, 32 bytes each, as
            :meth:`generate_key` makes them), newest first: a sequence, one
            comma-separated string, or a callable returning them.

    Raises:
        EncryptionKeyError: no key, a malformed key, or ``cryptography`` is
            not installed; the message names what to set.

    Example:
        >>> from fmc.platform import KeyRing
        >>> ring = KeyRing([KeyRing.generate_key()])
        >>> ring.open(ring.seal("EAAG-page-token"), what="a Page token")
        'EAAG-page-token'
    """

    def __init__(self, keys: KeySource) -> None:
        fernet = _fernet()
        given = keys() if callable(keys) else keys
        # One string is a comma-separated list (as in FMC_ENCRYPTION_KEYS), not characters.
        raw = keys_of(given) if isinstance(given, str) else list(given)
        if not raw:
            raise EncryptionKeyError(
                f"no encryption key: set {KEYS_ENV} to one or more keys (comma-separated, "
                "newest first; make one with `fmc keys generate`) or pass KeyRing(keys)"
            )
        made = []
        for position, key in enumerate(raw, start=1):
            try:
                made.append(fernet.Fernet(key.strip() if isinstance(key, str) else key))
            except (ValueError, TypeError):
                raise EncryptionKeyError(
                    f"encryption key #{position} is not a Fernet key (32 url-safe base64 "
                    f"bytes); fix {KEYS_ENV} or make a key with `fmc keys generate`"
                ) from None
        self._count = len(made)
        self._multi = fernet.MultiFernet(made)
        self._invalid = fernet.InvalidToken

    def __repr__(self) -> str:
        return f"KeyRing(keys={self._count})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> KeyRing:
        """The ring from ``FMC_ENCRYPTION_KEYS`` (comma-separated, newest first).

        Args:
            environ: The environment to read, e.g. ``os.environ`` (passed
                explicitly, so tests and embedding code choose what is read).

        Raises:
            EncryptionKeyError: the variable is unset, empty or holds a bad key.
        """
        return cls(keys_of(environ.get(KEYS_ENV, "")))

    @staticmethod
    def generate_key() -> str:
        """A new random key, to put first in ``FMC_ENCRYPTION_KEYS``."""
        return str(_fernet().Fernet.generate_key().decode("ascii"))

    @property
    def key_count(self) -> int:
        """How many keys the ring holds."""
        return self._count

    def seal(self, secret: str) -> str:
        """``secret`` encrypted with the newest key (ASCII text, safe to store)."""
        return str(self._multi.encrypt(secret.encode("utf-8")).decode("ascii"))

    def open(self, sealed: str, *, what: str) -> str:
        """The secret inside ``sealed``.

        Args:
            sealed: What :meth:`seal` returned.
            what: What it is, for the error (``"the token of Page 1234"``).

        Raises:
            EncryptionKeyError: none of the keys opens it.
        """
        try:
            return str(self._multi.decrypt(sealed.encode("ascii")).decode("utf-8"))
        except (self._invalid, UnicodeError):
            raise EncryptionKeyError(
                f"cannot decrypt {what}: none of the {self._count} key(s) in "
                f"{KEYS_ENV} (or the key callable) sealed it; add the key it was sealed "
                "with (newest first), then run `fmc keys rotate`"
            ) from None

    def reseal(self, sealed: str, *, what: str) -> str:
        """``sealed`` re-encrypted with the newest key.

        Raises:
            EncryptionKeyError: none of the keys opens it.
        """
        try:
            return str(self._multi.rotate(sealed.encode("ascii")).decode("ascii"))
        except (self._invalid, UnicodeError):
            self.open(sealed, what=what)
            raise
