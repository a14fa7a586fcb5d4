"""The error hierarchy and the Graph error code table."""

from __future__ import annotations

import datetime
import json

import pytest

from fmc.errors import (
    AmbiguousSendError,
    AuthenticationError,
    ConfigurationError,
    FMCError,
    FrequencyCapError,
    GraphAPIError,
    InvalidRequestError,
    OutsideWindowError,
    PageRestrictedError,
    PageThrottledError,
    PayloadError,
    PermissionDeniedError,
    RateLimitError,
    RecipientUnavailableError,
    TransientError,
    UncertainDeliveryError,
    graph_error_class,
    graph_error_from_response,
    mask_access_tokens,
)

CODE_TABLE = [
    (1, 99, GraphAPIError),
    (1, 1357046, UncertainDeliveryError),
    (2, None, TransientError),
    (2, 2018344, GraphAPIError),
    (4, None, RateLimitError),
    (4, 2018022, RateLimitError),
    (4, 2018354, FrequencyCapError),
    (9, 2018352, FrequencyCapError),
    (10, None, PermissionDeniedError),
    (10, 2018278, OutsideWindowError),
    (10, 2018065, OutsideWindowError),
    (10, 2018108, RecipientUnavailableError),
    (10, 1893063, PageRestrictedError),
    (17, None, RateLimitError),
    (32, None, RateLimitError),
    (100, None, InvalidRequestError),
    (100, 2018001, RecipientUnavailableError),
    (100, 2018109, InvalidRequestError),
    (190, None, AuthenticationError),
    (190, 463, AuthenticationError),
    (200, None, PermissionDeniedError),
    (200, 1545041, RecipientUnavailableError),
    (230, None, PermissionDeniedError),
    (299, None, PermissionDeniedError),
    (551, None, RecipientUnavailableError),
    (551, 1545041, RecipientUnavailableError),
    (613, None, RateLimitError),
    (1200, None, TransientError),
    (10303, None, InvalidRequestError),
    (80006, None, RateLimitError),
    (80001, None, RateLimitError),
    (80014, None, RateLimitError),
    (368, None, PageRestrictedError),
    (2300000, None, InvalidRequestError),
    (2300001, None, InvalidRequestError),
    (424242, None, GraphAPIError),
]


@pytest.mark.parametrize(
    ("code", "subcode", "expected"),
    CODE_TABLE,
    ids=[f"{c}/{s}->{e.__name__}" for c, s, e in CODE_TABLE],
)
def test_code_table_chooses_class(code: int, subcode: int | None, expected: type) -> None:
    """Each (code, subcode) pair maps to its documented error class."""
    assert graph_error_class(code, subcode, status=400) is expected


def test_unknown_transient_code_is_transient() -> None:
    """An unknown code that Meta flags is_transient is a TransientError."""
    assert graph_error_class(31337, None, is_transient=True) is TransientError


def test_server_error_without_code_is_transient() -> None:
    """An HTTP 5xx without a recognised code is a TransientError."""
    assert graph_error_class(None, None, status=502) is TransientError


def test_permanent_code_beats_http_5xx() -> None:
    """A known permanent code stays permanent even when the status is 5xx."""
    assert graph_error_class(100, None, status=500) is InvalidRequestError


def test_every_graph_error_is_an_fmc_error() -> None:
    """Every class in the table derives from GraphAPIError and FMCError."""
    for _, _, cls in CODE_TABLE:
        assert issubclass(cls, GraphAPIError)
        assert issubclass(cls, FMCError)


def test_uncertain_delivery_is_ambiguous() -> None:
    """1/1357046 is both a Graph error and an ambiguous send."""
    assert issubclass(UncertainDeliveryError, AmbiguousSendError)


def test_validation_errors_are_value_errors() -> None:
    """Configuration and payload errors are also ValueErrors."""
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(PayloadError, ValueError)


def _envelope(**error: object) -> bytes:
    return json.dumps({"error": error}).encode()


def test_response_envelope_is_kept_whole() -> None:
    """Every field of Meta's error envelope reaches the exception."""
    body = _envelope(
        message="(#551) This person isn't available right now.",
        type="OAuthException",
        code=551,
        error_subcode=1545041,
        fbtrace_id="AbCdEf",
        is_transient=False,
    )
    error = graph_error_from_response(400, body, {"X-App-Usage": '{"call_count":5}'})
    assert isinstance(error, RecipientUnavailableError)
    assert (error.status, error.code, error.subcode) == (400, 551, 1545041)
    assert error.type == "OAuthException"
    assert error.fbtrace_id == "AbCdEf"
    assert error.usage == {"x-app-usage": '{"call_count":5}'}
    assert "This person isn't available" in str(error)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "not JSON"),
        (b"", "empty body"),
        (b'{"error": {"code": 1', "not JSON"),
        (b'{"data": []}', "no error object"),
        (b"[1, 2]", "no error object"),
    ],
    ids=["html", "empty", "truncated", "no-error-key", "array"],
)
def test_unreadable_error_bodies_say_so(body: bytes, says: str) -> None:
    """A body that is not an error envelope gives a GraphAPIError that says what it was."""
    error = graph_error_from_response(502, body, {})
    assert isinstance(error, GraphAPIError)
    assert says in error.message


def test_is_transient_flag_is_honoured() -> None:
    """An envelope with is_transient true and an unknown code is transient."""
    error = graph_error_from_response(400, _envelope(code=31337, is_transient=True), {})
    assert isinstance(error, TransientError)
    assert error.is_transient


def test_string_codes_are_read_as_numbers() -> None:
    """Codes sent as strings are still mapped (seen in batch item bodies)."""
    error = graph_error_from_response(400, _envelope(code="613", message="slow down"), {})
    assert isinstance(error, RateLimitError)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        (
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {"123": [{"type": "messenger", "estimated_time_to_regain_access": 2}]}
                )
            },
            120.0,
        ),
        ({"X-Page-Usage": '{"call_count":100,"estimated_time_to_regain_access":3}'}, 180.0),
        ({"X-App-Usage": '{"call_count":100,"estimated_time_to_regain_access":1}'}, 60.0),
        ({"X-App-Usage": '{"call_count":100,"estimated_time_to_regain_access":0}'}, None),
        (
            {
                "X-App-Usage": '{"estimated_time_to_regain_access":1}',
                "X-Page-Usage": '{"estimated_time_to_regain_access":5}',
            },
            300.0,
        ),
        ({"Retry-After": "nan"}, None),
        ({"X-Business-Use-Case-Usage": "not json"}, None),
        ({}, None),
    ],
    ids=[
        "retry-after",
        "business-use-case-minutes",
        "page-usage-minutes",
        "app-usage-minutes",
        "zero-minutes",
        "largest-wins",
        "nan",
        "garbage",
        "none",
    ],
)
def test_retry_after_comes_from_usage_headers(
    headers: dict[str, str], seconds: float | None
) -> None:
    """retry_after reads Retry-After or the business use case estimate (minutes)."""
    error = graph_error_from_response(400, _envelope(code=613, message="limit"), headers)
    assert error.retry_after == seconds


STOPS_PAGE_TABLE = [
    (190, None, True),
    (190, 463, True),
    (190, 460, True),
    (102, None, True),
    (10, 1893063, True),
    (368, None, True),
    (10, None, True),
    (200, None, True),
    (200, 2018028, True),
    (230, None, True),
    (10, 2018278, False),
    (10, 2018065, False),
    (10, 2018108, False),
    (200, 1545041, False),
    (551, None, False),
    (100, 2018001, False),
    (100, None, False),
    (613, None, False),
    (4, None, False),
    (2, None, False),
    (1, 1357046, False),
    (4, 2018354, False),
    (424242, None, False),
]


@pytest.mark.parametrize(
    ("code", "subcode", "stops"),
    STOPS_PAGE_TABLE,
    ids=[f"{c}/{s}->{'page' if p else 'person'}" for c, s, p in STOPS_PAGE_TABLE],
)
def test_stops_page_by_code(code: int, subcode: int | None, stops: bool) -> None:
    """Errors about the Page stop it; errors about one person, throttles and bad requests do not."""
    body = _envelope(code=code, error_subcode=subcode, message="m")
    assert graph_error_from_response(400, body, {}).stops_page is stops


def test_every_authentication_error_stops_the_page() -> None:
    """An AuthenticationError stops the Page whatever its code, even one made by hand."""
    assert AuthenticationError("token expired").stops_page
    assert AuthenticationError("odd", code=190, subcode=999999).stops_page


def test_stops_page_is_read_only() -> None:
    """stops_page is a property of the error, not something a caller sets."""
    error = PageRestrictedError("restricted", code=10, subcode=1893063)
    with pytest.raises(AttributeError):
        error.stops_page = False  # type: ignore[misc]


def test_page_restricted_is_a_permission_error() -> None:
    """10/1893063 is a PermissionDeniedError too, so existing handlers still catch it."""
    assert issubclass(PageRestrictedError, PermissionDeniedError)


def test_page_throttled_error_says_when_to_resume() -> None:
    """PageThrottledError is a RateLimitError with an aware UTC resume_at, in str and repr."""
    resume = datetime.datetime(
        2026, 12, 1, 4, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )
    error = PageThrottledError("paused", resume_at=resume, code=613)
    assert isinstance(error, RateLimitError)
    assert error.resume_at == resume
    assert error.resume_at.tzinfo is datetime.timezone.utc
    assert "2026-12-01T03:00:00+00:00" in str(error)
    assert "resume_at" in repr(error)
    assert not error.stops_page


def test_page_throttled_error_refuses_a_naive_time() -> None:
    """A naive resume_at is refused: nobody could tell which zone it is in."""
    with pytest.raises(ValueError, match="aware"):
        PageThrottledError("paused", resume_at=datetime.datetime(2026, 12, 1))


TOKEN_SHAPED = "EAAGm0rEtH4nTw3ntyCh4rsLongToken0123"


@pytest.mark.parametrize(
    "make",
    [
        lambda m: GraphAPIError(m, code=190),
        lambda m: AuthenticationError(m, code=190, subcode=463),
        lambda m: graph_error_from_response(400, _envelope(code=190, message=m), {}),
    ],
    ids=["graph-error", "auth-error", "from-response"],
)
def test_token_shaped_words_never_reach_str_or_repr(make: object) -> None:
    """Whatever builds the error, a Meta-shaped token in its message is masked."""
    error = make(f"Malformed access token {TOKEN_SHAPED}")  # type: ignore[operator]
    assert TOKEN_SHAPED not in str(error)
    assert TOKEN_SHAPED not in repr(error)
    assert TOKEN_SHAPED not in f"{type(error).__name__}: {error}"
    assert "Malformed access token REDACTED" in str(error)


@pytest.mark.parametrize(
    "text",
    ["EAA", "EAAshort", "prefixEAAGm0rEtH4nTw3ntyCh4rsLongToken0123", "(#100) Invalid parameter"],
    ids=["bare-prefix", "short", "inside-a-word", "plain"],
)
def test_token_mask_leaves_other_text_alone(text: str) -> None:
    """Only whole words shaped like a token are masked."""
    assert mask_access_tokens(text) == text
