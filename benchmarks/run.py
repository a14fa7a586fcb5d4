"""Run every fmc benchmark and print one table: ``python benchmarks/run.py [--quick]``.

Each script runs in its own interpreter (so one benchmark's threads, caches and
memory never colour another's) against the fake Graph API in a subprocess.
``--quick`` uses smaller counts and one repeat and finishes in under a minute;
the full run repeats the timed parts and reports medians. ``--only`` picks
scripts by name (``--only send webhook``). The exit status is 1 when a target
is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import _common as c

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = (
    "bench_import",
    "bench_webhook",
    "bench_registration",
    "bench_send",
    "bench_batch",
    "bench_ratelimit",
    "bench_recovery",
    "bench_memory",
    "bench_platform",
    "bench_scale",
)


def main() -> int:
    """Run the scripts, then print the combined table and the machine."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts, one repeat")
    parser.add_argument("--repeat", type=int, default=None, help="repeats per benchmark")
    parser.add_argument("--only", nargs="*", default=None, help="script names to run")
    parser.add_argument("--json", default=None, help="also write every row to this file")
    args = parser.parse_args()
    chosen = [s for s in SCRIPTS if not args.only or any(name in s for name in args.only)]
    started = time.perf_counter()
    failed_scripts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fmc-bench-") as directory:
        rows_file = os.path.join(directory, "rows.jsonl")
        for script in chosen:
            command = [sys.executable, os.path.join(HERE, f"{script}.py"), "--json", rows_file]
            if args.quick:
                command.append("--quick")
            if args.repeat is not None:
                command += ["--repeat", str(args.repeat)]
            print(f"-- {script}", flush=True)
            began = time.perf_counter()
            result = subprocess.run(command, check=False)  # noqa: S603 - our own scripts
            print(f"-- {script}: {time.perf_counter() - began:.1f} s", flush=True)
            if result.returncode not in (0, 1):
                failed_scripts.append(script)
        rows = []
        if os.path.exists(rows_file):
            with open(rows_file, encoding="utf-8") as lines:
                rows = [json.loads(line) for line in lines]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"machine": c.machine(), "quick": args.quick, "rows": rows}, out, indent=2)
    table = [c.Row(**{k: v for k, v in row.items() if k != "script"}) for row in rows]
    print()
    c.print_table("fmc benchmarks" + (" (--quick)" if args.quick else ""), table)
    info = c.machine()
    print(
        f"machine: nproc={info['nproc']}, {info['implementation']} {info['python']}, "
        f"{info['platform']}, {info['date']}; total {time.perf_counter() - started:.0f} s"
    )
    for script in failed_scripts:
        print(f"ERROR: {script} crashed; see its output above")
    missed = [row.target for row in table if not row.passed and not row.aim]
    aims = [row.target for row in table if not row.passed and row.aim]
    if missed:
        print(f"missed: {', '.join(missed)}")
    if aims:
        print(f"aims not reached (not counted as failures): {', '.join(aims)}")
    return 1 if missed or failed_scripts else 0


if __name__ == "__main__":
    sys.exit(main())
