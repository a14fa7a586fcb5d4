"""fmc: the Facebook Messenger Channel SDK for Python."""

from __future__ import annotations

from fmc.errors import (
    AmbiguousSendError,
    AuthenticationError,
    ConfigurationError,
    FMCError,
    ForwardingRefused,
    GraphAPIError,
    InvalidRequestError,
    NetworkError,
    OutsideWindowError,
    PayloadError,
    PermissionDeniedError,
    PolicyRefused,
    RateLimitError,
    RecipientUnavailableError,
    SignatureError,
    TransientError,
    VerificationError,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "AmbiguousSendError",
    "AuthenticationError",
    "ConfigurationError",
    "FMCError",
    "ForwardingRefused",
    "GraphAPIError",
    "InvalidRequestError",
    "NetworkError",
    "OutsideWindowError",
    "PayloadError",
    "PermissionDeniedError",
    "PolicyRefused",
    "RateLimitError",
    "RecipientUnavailableError",
    "SignatureError",
    "TransientError",
    "VerificationError",
    "__version__",
]
