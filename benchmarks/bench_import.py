"""Target 8: what ``import fmc`` costs over its runtime dependencies.

Each command runs in a fresh interpreter (``python -c ...``), the three kinds
interleaved, at least ten times each; the median wall time is compared:

* the baseline: ``import requests, attrs, cattrs, tenacity``;
* ``import fmc`` (the package loads its names lazily);
* the full public API: ``import fmc`` and touching ``fmc.Channel``,
  ``fmc.Client``, ``fmc.WebhookHandler``, ``fmc.SQLiteStore`` and ``fmc.Text``.

Run: ``python benchmarks/bench_import.py [--quick]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import _common as c

COMMANDS = {
    "deps": "import requests, attrs, cattrs, tenacity",
    "fmc": "import fmc",
    "full": "import fmc; fmc.Channel; fmc.Client; fmc.WebhookHandler; fmc.SQLiteStore; fmc.Text",
    "bare": "pass",
}


def _once(code: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)  # noqa: S603
    return time.perf_counter() - started


def main() -> None:
    """Run target 8."""
    args = c.parse_args(__doc__ or "")
    report = c.Report("bench_import (target 8)", args)
    runs = 11 if args.quick else 25
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for code in COMMANDS.values():
        _once(code)  # warm the file cache and the bytecode
    for _ in range(runs):
        for name, code in COMMANDS.items():
            times[name].append(_once(code))
    ms = {name: c.median(values) * 1000 for name, values in times.items()}
    over_fmc = ms["fmc"] - ms["deps"]
    over_full = ms["full"] - ms["deps"]
    note = (
        f"median of {runs} fresh interpreters each, interleaved; bare interpreter "
        f"{ms['bare']:.1f} ms, deps {ms['deps']:.1f} ms"
    )
    report.add(
        c.Row(
            "8a python -c 'import fmc' over the deps",
            f"{ms['fmc']:.1f} ms",
            f"{ms['deps']:.1f} ms (requests, attrs, cattrs, tenacity)",
            f"{over_fmc:+.1f} ms",
            "<= +30 ms",
            over_fmc <= 30,
            note,
            ms,
        )
    )
    report.add(
        c.Row(
            "8b full public API (Channel, Client, WebhookHandler, SQLiteStore, Text) over the deps",
            f"{ms['full']:.1f} ms",
            f"{ms['deps']:.1f} ms (requests, attrs, cattrs, tenacity)",
            f"{over_full:+.1f} ms",
            "<= +30 ms (aim)",
            over_full <= 30,
            "profile with: python -X importtime -c 'import fmc; fmc.Channel; ...'",
            ms,
            aim=True,
        )
    )
    c.exit_with(report)


if __name__ == "__main__":
    main()
