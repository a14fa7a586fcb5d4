"""The context-manager half of every object that owns connections and closes them.

:class:`Closing` gives a class with a ``close()`` method ``with`` support:
entering returns the object itself and leaving calls ``close()``, whatever
ended the block. The clients, the stores and :class:`fmc.platform.Platform`
mix it in, so the protocol is written once, below every layer that uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

__all__ = ["Closing"]

_C = TypeVar("_C", bound="Closing")


class Closing:
    """``with obj:`` returns ``obj`` and calls ``obj.close()`` on the way out.

    A class that mixes it in defines ``close``.
    """

    #: Releases what the object owns; called once the ``with`` block ends.
    close: Callable[[], None]

    def __enter__(self: _C) -> _C:
        """Return the object itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Call ``close()``, whatever ended the block."""
        self.close()
