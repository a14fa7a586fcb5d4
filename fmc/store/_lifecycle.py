"""A store's lifecycle as a context manager, shared by the memory and SQL stores."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["Lifecycle"]

_S = TypeVar("_S", bound="Lifecycle")


class Lifecycle:
    """``with store:`` closes the store when the block ends; the store defines :meth:`close`."""

    def close(self) -> None:
        """Release what the store holds; it is not used afterwards."""
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        """Return the store itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()
