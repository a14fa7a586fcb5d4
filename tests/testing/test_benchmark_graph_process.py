"""Tests for the benchmarks' harness: the fake Graph server in a subprocess (FakeGraphProcess).

It lives in ``benchmarks/_graph_process.py``, not in :mod:`fmc.testing`; the
benchmarks import it from their own folder, so these tests load it from there.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
import requests

from fmc.testing import Fault

HARNESS = Path(__file__).resolve().parents[2] / "benchmarks" / "_graph_process.py"
JSON = {"Content-Type": "application/json"}
SEND = json.dumps(
    {"recipient": {"id": "1"}, "messaging_type": "UPDATE", "message": {"text": "hi"}}
).encode()


@pytest.fixture(scope="module")
def graph_process() -> ModuleType:
    """The harness module, loaded from the benchmarks folder."""
    spec = importlib.util.spec_from_file_location("_graph_process", HARNESS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_process_round_trip(graph_process: ModuleType) -> None:
    """The subprocess serves sends, reports state, takes faults and exits cleanly."""
    process = graph_process.FakeGraphProcess(
        latency=0.0, faults=[Fault.unavailable(["9"]), "rate_limit:times=1"], access_token="tok"
    )
    with process:
        url = process.url
        send = f"{url}/v25.0/me/messages?access_token=tok"
        assert (
            requests.post(send, data=SEND, headers=JSON, timeout=5).json()["error"]["code"] == 613
        )
        assert requests.post(send, data=SEND, headers=JSON, timeout=5).status_code == 200
        assert (
            requests.post(
                f"{url}/v25.0/me/messages?access_token=bad", data=SEND, headers=JSON, timeout=5
            ).json()["error"]["code"]
            == 190
        )
        state = process.state()
        assert state["delivery_count"] == 1
        assert state["faults_injected"] == {"rate_limit": 1}
        assert process.deliveries()[0]["recipient"] == {"id": "1"}
        process.set_faults([Fault.transient()])
        assert requests.post(send, data=SEND, headers=JSON, timeout=5).status_code == 500
        process.reset()
        assert process.state()["http_requests"] == 0
        process.add_users({"3": {"first_name": "Di"}})
        assert requests.get(f"{url}/v25.0/3?access_token=tok", timeout=5).json()["id"] == "3"
    assert process.stop() is None
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)


def test_a_fault_object_reaches_the_subprocess(graph_process: ModuleType) -> None:
    """A Fault given as an object reaches the subprocess in its JSON form."""
    with graph_process.FakeGraphProcess(faults=[Fault.transient(times=1)]) as process:
        send = f"{process.url}/v25.0/me/messages?access_token=t"
        assert requests.post(send, data=SEND, headers=JSON, timeout=5).status_code == 500
        assert requests.post(send, data=SEND, headers=JSON, timeout=5).status_code == 200
