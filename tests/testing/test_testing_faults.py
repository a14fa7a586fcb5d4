"""Tests for fmc.testing.faults: fault descriptions, their text form, and the injector's draws."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc.errors import ConfigurationError
from fmc.testing import Fault, FaultInjector, FaultKind, Per


class TestFault:
    """Building faults."""

    def test_per_defaults_to_send_for_errors(self) -> None:
        """Error faults count sends unless told otherwise."""
        assert Fault.rate_limit(ratio=0.1).per is Per.SEND

    @pytest.mark.parametrize(
        "fault",
        [Fault.drop(after=True), Fault.drop(after=False), Fault.latency(0.1)],
        ids=["drop_after", "drop_before", "latency"],
    )
    def test_drops_and_latency_are_per_request(self, fault: Fault) -> None:
        """Dropped connections and latency always count HTTP requests."""
        assert fault.per is Per.REQUEST

    def test_drop_per_send_is_refused(self) -> None:
        """A drop cannot apply to one item of a batch."""
        with pytest.raises(ConfigurationError, match="per HTTP request"):
            Fault(kind=FaultKind.DROP_AFTER, per=Per.SEND)

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"kind": FaultKind.RATE_LIMIT, "ratio": 1.5}, "between 0 and 1"),
            ({"kind": FaultKind.RATE_LIMIT, "times": -1}, "must not be negative"),
            ({"kind": FaultKind.MALFORMED, "shape": "xml"}, "shape="),
            ({"kind": FaultKind.UNAVAILABLE}, "needs the psids"),
            ({"kind": FaultKind.DROP_BEFORE, "exception": "boom"}, "exception="),
        ],
        ids=["ratio", "times", "shape", "unavailable-psids", "exception"],
    )
    def test_invalid_faults_are_refused(self, options: dict[str, object], message: str) -> None:
        """Impossible fault descriptions raise ConfigurationError."""
        with pytest.raises(ConfigurationError, match=message):
            Fault(**options)  # type: ignore[arg-type]

    def test_rate_limit_headers(self) -> None:
        """retry_after and usage become Retry-After and Meta's usage headers."""
        headers = dict(Fault.rate_limit(retry_after=90, usage=True).headers)
        assert headers["Retry-After"] == "90"
        assert '"estimated_time_to_regain_access":2' in headers["X-Business-Use-Case-Usage"]
        assert "X-App-Usage" in headers

    @pytest.mark.parametrize(
        ("fault", "fields"),
        [
            (Fault.rate_limit(), (613, None, 400, None)),
            (Fault.rate_limit(code=4), (4, None, 400, None)),
            (Fault.rate_limit(code=80006), (80006, None, 400, None)),
            (Fault.transient(), (2, None, 500, True)),
            (Fault.transient(code=1200), (1200, None, 400, True)),
            (Fault.unavailable(["1"]), (551, 1545041, 400, None)),
            (Fault.error(10, "outside", subcode=2018278), (10, 2018278, 400, None)),
        ],
        ids=["613", "4", "80006", "2", "1200", "551", "error"],
    )
    def test_error_fields(self, fault: Fault, fields: tuple[object, ...]) -> None:
        """Each error fault answers Meta's code, subcode, HTTP status and transient flag."""
        code, subcode, _, status, transient = fault.error_fields()
        assert (code, subcode, status, transient) == fields

    @pytest.mark.parametrize(
        ("fault", "delivers"),
        [
            (Fault.malformed("html"), False),
            (Fault.malformed("empty"), False),
            (Fault.malformed("truncated"), True),
            (Fault.malformed("wrong_shape"), True),
            (Fault.malformed("error_200"), False),
            (Fault.malformed("html", delivered=True), True),
            (Fault.drop(after=True), True),
            (Fault.drop(after=False), False),
            (Fault.rate_limit(), False),
        ],
        ids=[
            "html",
            "empty",
            "truncated",
            "wrong_shape",
            "error_200",
            "html-delivered",
            "drop-after",
            "drop-before",
            "rate-limit",
        ],
    )
    def test_delivers(self, fault: Fault, delivers: bool) -> None:
        """Only faults after processing deliver the send behind them."""
        assert fault.delivers is delivers


class TestFaultText:
    """The text and JSON forms of faults."""

    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            ("rate_limit:ratio=0.1", Fault.rate_limit(ratio=0.1)),
            ("rate_limit:code=4,times=2", Fault.rate_limit(code=4, times=2)),
            ("transient:code=1200", Fault.transient(code=1200)),
            ("server_error:status=503,per=request", Fault.server_error(status=503, per="request")),
            ("unavailable:psids=1|2", Fault.unavailable(["1", "2"])),
            ("malformed:shape=truncated", Fault.malformed("truncated")),
            ("drop_after:times=3", Fault.drop(after=True, times=3)),
            (
                "drop_before:exception=connection_error",
                Fault.drop(after=False, exception="connection_error"),
            ),
            ("latency:delay=0.2,ratio=0.5", Fault.latency(0.2, ratio=0.5)),
            ("rate_limit:retry_after=5", Fault.rate_limit(retry_after=5)),
        ],
        ids=lambda value: value if isinstance(value, str) else "",
    )
    def test_parse(self, spec: str, expected: Fault) -> None:
        """The text form builds the same fault as the classmethod."""
        assert Fault.parse(spec) == expected

    @pytest.mark.parametrize(
        "spec",
        ["explode", "rate_limit:ratio", "rate_limit:colour=red", "rate_limit:ratio=lots"],
        ids=["kind", "not-key-value", "unknown-option", "bad-value"],
    )
    def test_parse_refuses_nonsense(self, spec: str) -> None:
        """Text that is not a fault raises ConfigurationError."""
        with pytest.raises(ConfigurationError):
            Fault.parse(spec)

    @pytest.mark.parametrize(
        "fault",
        [
            Fault.rate_limit(ratio=0.25, retry_after=3, usage=True),
            Fault.unavailable(["9", "8"]),
            Fault.error(10, "x", subcode=2018278, type="GraphMethodException", times=1),
            Fault.malformed("empty", delivered=True, psids=["1"]),
            Fault.drop(after=True, times=0),
            Fault.latency(0.5),
        ],
        ids=["rate_limit", "unavailable", "error", "malformed", "drop-times-0", "latency"],
    )
    def test_dict_round_trip(self, fault: Fault) -> None:
        """from_dict(to_dict(fault)) is the same fault."""
        assert Fault.from_dict(fault.to_dict()) == fault


def _fired(injector: FaultInjector, calls: int, psid: str = "1") -> list[bool]:
    return [injector.pick(Per.SEND, (psid,)) is not None for _ in range(calls)]


class TestFaultInjector:
    """When faults fire."""

    def test_no_fault_fires_nothing(self) -> None:
        """An empty injector never fires."""
        assert FaultInjector().pick(Per.SEND, ("1",)) is None

    def test_always(self) -> None:
        """A fault without ratio, times or psids fires on every call."""
        assert all(_fired(FaultInjector(faults=[Fault.transient()]), 20))

    def test_times(self) -> None:
        """times=N fires on exactly the next N calls."""
        assert (
            _fired(FaultInjector(faults=[Fault.transient(times=3)]), 6) == [True] * 3 + [False] * 3
        )

    def test_psids(self) -> None:
        """A psids fault fires for those recipients only."""
        injector = FaultInjector(faults=[Fault.unavailable(["7"])])
        assert injector.pick(Per.SEND, ("7",)) is not None
        assert injector.pick(Per.SEND, ("8",)) is None

    def test_per_filters_calls(self) -> None:
        """A per-request fault does not fire on a send, and the other way round."""
        injector = FaultInjector(faults=[Fault.transient(per="request")])
        assert injector.pick(Per.SEND, ("1",)) is None
        assert injector.pick(Per.REQUEST, ("1",)) is not None

    @given(seed=st.integers(0, 2**32), ratio=st.floats(0.05, 0.95))
    def test_ratio_is_deterministic(self, seed: int, ratio: float) -> None:
        """The same seed gives the same faults on the same calls."""
        first = _fired(FaultInjector(seed, [Fault.rate_limit(ratio=ratio)]), 50)
        second = _fired(FaultInjector(seed, [Fault.rate_limit(ratio=ratio)]), 50)
        assert first == second

    def test_ratio_is_close_to_asked(self) -> None:
        """ratio=0.1 fires on about a tenth of the calls."""
        fired = _fired(FaultInjector(3, [Fault.rate_limit(ratio=0.1)]), 10_000)
        assert 900 <= sum(fired) <= 1100

    def test_seeds_differ(self) -> None:
        """Different seeds give different fault sequences."""
        first = _fired(FaultInjector(1, [Fault.rate_limit(ratio=0.5)]), 64)
        second = _fired(FaultInjector(2, [Fault.rate_limit(ratio=0.5)]), 64)
        assert first != second

    def test_adding_a_fault_does_not_shift_earlier_ones(self) -> None:
        """A fault's draws do not depend on the faults added after it."""
        alone = FaultInjector(5, [Fault.rate_limit(ratio=0.3)])
        together = FaultInjector(5, [Fault.rate_limit(ratio=0.3), Fault.transient(ratio=0.5)])
        kinds = [together.pick(Per.SEND, ("1",)) for _ in range(200)]
        alone_fired = _fired(alone, 200)
        assert [f is not None and f.kind is FaultKind.RATE_LIMIT for f in kinds] == alone_fired

    def test_first_added_wins(self) -> None:
        """When two faults fire on one call, the first added answers it."""
        injector = FaultInjector(faults=[Fault.transient(), Fault.rate_limit()])
        fault = injector.pick(Per.SEND, ("1",))
        assert fault is not None
        assert fault.kind is FaultKind.TRANSIENT

    def test_shadowed_times_are_not_used_up(self) -> None:
        """A times fault hidden by an earlier fault keeps its count."""
        injector = FaultInjector(faults=[Fault.transient(times=2), Fault.rate_limit(times=1)])
        kinds = [f.kind if f else None for f in (injector.pick(Per.SEND, ()) for _ in range(4))]
        assert kinds == [FaultKind.TRANSIENT, FaultKind.TRANSIENT, FaultKind.RATE_LIMIT, None]

    def test_injected_counts_by_kind(self) -> None:
        """injected counts each fault that fired, by kind."""
        injector = FaultInjector(faults=[Fault.transient(times=2), Fault.unavailable(["9"])])
        _fired(injector, 5)
        _fired(injector, 3, psid="9")
        assert injector.injected == {"transient": 2, "unavailable": 3}

    def test_latency_adds_up(self) -> None:
        """Latency faults add their delays and are counted."""
        injector = FaultInjector(faults=[Fault.latency(0.1), Fault.latency(0.2, times=1)])
        assert injector.delay(()) == pytest.approx(0.3)
        assert injector.delay(()) == pytest.approx(0.1)
        assert injector.injected["latency"] == 3

    def test_latency_is_not_picked(self) -> None:
        """pick never answers a latency fault."""
        assert FaultInjector(faults=[Fault.latency(1.0)]).pick(Per.REQUEST, ()) is None

    def test_replace_keeps_counts_clear_forgets_them(self) -> None:
        """replace swaps the faults and keeps injected; clear empties both."""
        injector = FaultInjector(faults=["transient"])
        _fired(injector, 2)
        injector.replace(["rate_limit:times=1"])
        assert [f.kind for f in injector.active] == [FaultKind.RATE_LIMIT]
        assert injector.injected["transient"] == 2
        injector.clear()
        assert not injector.active
        assert not injector.injected

    def test_active_leaves_out_used_up_faults(self) -> None:
        """A times fault that has fired its last time is no longer active."""
        injector = FaultInjector(faults=[Fault.transient(times=1)])
        _fired(injector, 1)
        assert injector.active == ()
