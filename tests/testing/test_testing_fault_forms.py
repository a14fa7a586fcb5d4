"""Every fault kind, injected through both forms of the fake: requests-mock and loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import attrs
import pytest
import requests
import requests_mock

from fmc.testing import FakeGraphAPI, Fault

TOKEN = "page-token"


@attrs.define
class Graph:
    """A fake on one transport, with a session to call it."""

    fake: FakeGraphAPI
    session: requests.Session
    base: str
    form: str
    sleeps: list[float]

    def send(self, psid: str = "1", **kwargs: Any) -> requests.Response:
        body = {"recipient": {"id": psid}, "messaging_type": "UPDATE", "message": {"text": "hi"}}
        return self.session.post(
            f"{self.base}/v25.0/me/messages", params={"access_token": TOKEN}, json=body, **kwargs
        )

    def batch(self, psids: list[str]) -> requests.Response:
        items = [
            {
                "method": "POST",
                "relative_url": "me/messages",
                "body": urlencode(
                    {
                        "recipient": json.dumps({"id": psid}),
                        "messaging_type": "UPDATE",
                        "message": json.dumps({"text": "hi"}),
                    }
                ),
            }
            for psid in psids
        ]
        return self.session.post(
            f"{self.base}/v25.0/", data={"access_token": TOKEN, "batch": json.dumps(items)}
        )


@pytest.fixture(params=["mock", "server"])
def graph(request: pytest.FixtureRequest) -> Iterator[Graph]:
    sleeps: list[float] = []
    if request.param == "mock":
        fake = FakeGraphAPI(access_token=TOKEN, sleep=sleeps.append)
        with requests_mock.Mocker() as mocker, requests.Session() as session:
            fake.mock(mocker)
            yield Graph(fake, session, "https://graph.facebook.com", "mock", sleeps)
    else:
        fake = FakeGraphAPI(access_token=TOKEN)
        with fake.serve() as url, requests.Session() as session:
            yield Graph(fake, session, url, "server", sleeps)


def error_of(response: requests.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.mark.parametrize(
    ("fault", "status", "code", "transient"),
    [
        (Fault.rate_limit(), 400, 613, None),
        (Fault.rate_limit(code=4), 400, 4, None),
        (Fault.rate_limit(code=80006), 400, 80006, None),
        (Fault.transient(), 500, 2, True),
        (Fault.transient(code=1200), 400, 1200, True),
        (Fault.error(10, "(#10) outside the window", subcode=2018278), 400, 10, None),
    ],
    ids=["613", "4", "80006", "transient-2", "transient-1200", "error-10"],
)
def test_error_faults(
    graph: Graph, fault: Fault, status: int, code: int, transient: bool | None
) -> None:
    """An error fault answers Meta's envelope, delivers nothing, and is counted."""
    graph.fake.faults.add(fault)
    response = graph.send()
    assert response.status_code == status
    error = error_of(response)
    assert (error["code"], error.get("is_transient")) == (code, transient)
    assert error["fbtrace_id"]
    assert graph.fake.deliveries == []
    assert graph.fake.faults.injected == {fault.kind.value: 1}


def test_rate_limit_headers(graph: Graph) -> None:
    """A rate limit with retry_after and usage answers those headers."""
    graph.fake.faults.add(Fault.rate_limit(retry_after=30, usage=True))
    response = graph.send()
    assert response.headers["Retry-After"] == "30"
    assert "estimated_time_to_regain_access" in response.headers["X-Business-Use-Case-Usage"]


def test_server_error_is_html(graph: Graph) -> None:
    """A 5xx fault answers an HTML page with the status asked for."""
    graph.fake.faults.add(Fault.server_error(status=503))
    response = graph.send()
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<html>")
    assert graph.fake.deliveries == []


def test_unavailable_for_chosen_psids_always(graph: Graph) -> None:
    """551 is answered every time to the chosen PSIDs, and never to the others."""
    graph.fake.faults.add(Fault.unavailable(["9"]))
    codes = [graph.send(psid).status_code for psid in ["9", "1", "9", "2", "9"]]
    assert codes == [400, 200, 400, 200, 400]
    assert error_of(graph.send("9"))["message"] == "(#551) This person isn't available right now."
    assert graph.fake.delivery_counts() == {"1": 1, "2": 1}
    assert graph.fake.faults.injected["unavailable"] == 4


@pytest.mark.parametrize(
    ("shape", "content_type", "delivered"),
    [
        ("html", "text/html", False),
        ("empty", "application/json", False),
        ("truncated", "application/json", True),
        ("wrong_shape", "application/json", True),
        ("error_200", "application/json", False),
    ],
    ids=["html", "empty", "truncated", "wrong_shape", "error_200"],
)
def test_malformed_replies(graph: Graph, shape: str, content_type: str, delivered: bool) -> None:
    """A malformed reply is HTTP 200 with a body that is not a send result."""
    graph.fake.faults.add(Fault.malformed(shape))
    response = graph.send()
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    try:
        body = response.json()
    except ValueError:
        body = None
    assert not (isinstance(body, dict) and "message_id" in body)
    if shape == "error_200":
        assert body["error"]["code"] == 1
    assert len(graph.fake.deliveries) == int(delivered)


def test_truncated_is_the_real_answer_cut(graph: Graph) -> None:
    """A truncated reply is the first half of the real success body."""
    graph.fake.faults.add(Fault.malformed("truncated"))
    text = graph.send().text
    message_id = graph.fake.deliveries[0].message_id
    assert message_id is not None
    full = json.dumps({"recipient_id": "1", "message_id": message_id}, separators=(",", ":"))
    assert full.startswith(text)
    assert len(text) == len(full) // 2


def test_drop_before_delivers_nothing(graph: Graph) -> None:
    """A drop before processing raises a connection error and delivers nothing."""
    graph.fake.faults.add(Fault.drop(after=False, times=1))
    expected = (
        requests.exceptions.ConnectTimeout if graph.form == "mock" else requests.ConnectionError
    )
    with pytest.raises(expected):
        graph.send()
    assert graph.fake.deliveries == []
    assert graph.fake.faults.injected == {"drop_before": 1}
    assert graph.send().status_code == 200


def test_drop_after_delivers(graph: Graph) -> None:
    """A drop after processing raises, yet the send was delivered: the ambiguous case."""
    graph.fake.faults.add(Fault.drop(after=True, times=1))
    expected = requests.exceptions.ReadTimeout if graph.form == "mock" else requests.ConnectionError
    with pytest.raises(expected):
        graph.send()
    assert len(graph.fake.deliveries) == 1
    assert graph.fake.faults.injected == {"drop_after": 1}


def test_drop_after_a_batch_delivers_every_item(graph: Graph) -> None:
    """A drop after processing a batch delivers all its items."""
    graph.fake.faults.add(Fault.drop(after=True, times=1))
    with pytest.raises((requests.ConnectionError, requests.Timeout)):
        graph.batch(["1", "2", "3"])
    assert graph.fake.delivery_counts() == {"1": 1, "2": 1, "3": 1}


def test_drop_for_psids_in_a_batch(graph: Graph) -> None:
    """A drop for chosen PSIDs fires on a batch that holds one of them."""
    graph.fake.faults.add(Fault.drop(after=False, psids=["7"]))
    assert graph.batch(["1", "2"]).status_code == 200
    with pytest.raises(requests.ConnectionError):
        graph.batch(["1", "7"])
    assert graph.fake.delivery_counts() == {"1": 1, "2": 1}


def test_per_send_fault_hits_batch_items(graph: Graph) -> None:
    """A per-send fault answers for the items it fires on; the batch itself succeeds."""
    graph.fake.faults.add(Fault.rate_limit(times=2))
    answers = graph.batch(["1", "2", "3", "4"]).json()
    assert [a["code"] for a in answers] == [400, 400, 200, 200]
    assert json.loads(answers[0]["body"])["error"]["code"] == 613
    assert graph.fake.delivery_counts() == {"3": 1, "4": 1}


def test_server_error_in_a_batch_item(graph: Graph) -> None:
    """A 5xx fault on a batch item answers that item with the status and an HTML body."""
    graph.fake.faults.add(Fault.server_error(times=1))
    answers = graph.batch(["1", "2"]).json()
    assert answers[0]["code"] == 502
    assert answers[0]["body"].startswith("<html>")
    assert answers[1]["code"] == 200


def test_per_request_fault_refuses_a_whole_batch(graph: Graph) -> None:
    """A per-request fault answers the whole batch request, and nothing is delivered."""
    graph.fake.faults.add(Fault.rate_limit(per="request", times=1))
    response = graph.batch(["1", "2"])
    assert error_of(response)["code"] == 613
    assert graph.fake.deliveries == []


def test_ratio_is_reproducible(graph: Graph) -> None:
    """With the same seed, a ratio fault fails the same calls of the same sequence."""
    graph.fake.faults.add(Fault.transient(ratio=0.3))
    first = [graph.send(str(i)).status_code for i in range(40)]
    graph.fake.reset()
    graph.fake.faults.add(Fault.transient(ratio=0.3))
    second = [graph.send(str(i)).status_code for i in range(40)]
    assert first == second
    assert 0 < first.count(500) < 40


def test_faults_compose(graph: Graph) -> None:
    """Several faults work together, each counted by kind."""
    graph.fake.faults.add(
        Fault.unavailable(["9"]),
        Fault.rate_limit(times=1),
        Fault.transient(times=1),
    )
    codes = [error_of(graph.send("9"))["code"]]
    codes += [error_of(graph.send("1"))["code"], error_of(graph.send("1"))["code"]]
    assert codes == [551, 613, 2]
    assert graph.send("1").status_code == 200
    assert graph.fake.faults.injected == {"unavailable": 1, "rate_limit": 1, "transient": 1}


def test_latency_once_per_request(graph: Graph) -> None:
    """Latency is applied once per HTTP request, however many sends it carries."""
    graph.fake.latency = 0.05
    started = time.monotonic()
    graph.batch([str(i) for i in range(20)])
    elapsed = time.monotonic() - started
    if graph.form == "mock":
        assert graph.sleeps == [0.05]
    else:
        assert 0.05 <= elapsed < 0.5


def test_latency_fault(graph: Graph) -> None:
    """A latency fault adds its delay to the requests it fires on only."""
    graph.fake.faults.add(Fault.latency(0.05, times=1))
    started = time.monotonic()
    graph.send()
    first = time.monotonic() - started
    started = time.monotonic()
    graph.send()
    second = time.monotonic() - started
    if graph.form == "mock":
        assert graph.sleeps == [0.05]
    else:
        assert first >= 0.05 > second
    assert graph.fake.faults.injected == {"latency": 1}


@pytest.mark.parametrize(
    ("exception", "expected"),
    [
        ("connection_error", requests.exceptions.ConnectionError),
        ("connect_timeout", requests.exceptions.ConnectTimeout),
        ("read_timeout", requests.exceptions.ReadTimeout),
    ],
    ids=["connection_error", "connect_timeout", "read_timeout"],
)
def test_mock_drop_exception_is_configurable(exception: str, expected: type[Exception]) -> None:
    """In the requests-mock form, a drop raises the exception the fault names."""
    fake = FakeGraphAPI(faults=[Fault.drop(after=True, exception=exception)])
    with fake.mock(), pytest.raises(expected):
        requests.post(
            "https://graph.facebook.com/v25.0/me/messages?access_token=t", json={}, timeout=5
        )
