"""Target 8: what ``import fmc`` costs over its runtime dependencies.

Each command runs in a fresh interpreter (``python -c ...``), the three kinds
interleaved, at least ten times each; the median wall time is compared:

* the baseline: ``import requests, attrs, cattrs, tenacity``;
* ``import fmc`` (the package loads its names lazily);
* the full public API: ``import fmc`` and touching ``fmc.Channel``,
  ``fmc.Client``, ``fmc.WebhookHandler``, ``fmc.SQLiteStore`` and ``fmc.Text``.

With ``--against PATH`` (another checkout, e.g. the main branch's), the
two ``fmc`` commands also run against that tree, interleaved with the others,
and a third row compares the two trees' full-API cost in the same run: a
before/after that the machine's noise affects equally.

Run: ``python benchmarks/bench_import.py [--quick] [--against PATH]``.
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


def _split_against(argv: list[str]) -> tuple[str | None, list[str]]:
    """Take ``--against PATH`` out of the arguments the shared parser reads."""
    if "--against" not in argv:
        return None, argv
    at = argv.index("--against")
    if at + 1 >= len(argv):
        sys.exit("--against needs the path of another checkout")
    return os.path.abspath(argv[at + 1]), argv[:at] + argv[at + 2 :]


def _from_tree(tree: str, code: str) -> str:
    """``code`` with ``tree`` first on the import path (``sys`` is already loaded)."""
    return f"import sys; sys.path.insert(0, {tree!r}); {code}"


def _once(code: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)  # noqa: S603
    return time.perf_counter() - started


def main() -> None:
    """Run target 8."""
    against, argv = _split_against(sys.argv[1:])
    args = c.parse_args(__doc__ or "", argv)
    report = c.Report("bench_import (target 8)", args)
    runs = 11 if args.quick else 25
    commands = dict(COMMANDS)
    if against is not None:
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        for name in ("fmc", "full"):
            commands[f"{name}@against"] = _from_tree(against, COMMANDS[name])
            commands[name] = _from_tree(here, COMMANDS[name])
    times: dict[str, list[float]] = {name: [] for name in commands}
    for code in commands.values():
        _once(code)  # warm the file cache and the bytecode
    for _ in range(runs):
        for name, code in commands.items():
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
    if against is not None:
        change = ms["full"] - ms["full@against"]
        allowed = 0.05 * ms["full@against"]  # about the run-to-run noise of one median here
        report.add(
            c.Row(
                "8c full public API, this tree against --against",
                f"{ms['full']:.1f} ms",
                f"{ms['full@against']:.1f} ms ({against})",
                f"{change:+.1f} ms",
                f"<= +{allowed:.1f} ms (5%, aim)",
                change <= allowed,
                f"'import fmc': {ms['fmc']:.1f} ms here, {ms['fmc@against']:.1f} ms there",
                ms,
                aim=True,
            )
        )
    c.exit_with(report)


if __name__ == "__main__":
    main()
