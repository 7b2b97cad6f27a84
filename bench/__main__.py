"""``python -m bench [--quick] [--only NAME ...] [--no-browser] [--list]``: run the registered benchmarks.

Prints each figure beside its baseline and the ratio, then writes bench/RESULTS.md and
bench/results.json (``--quick`` writes to bench/.cache/quick/ instead, so a smoke run never
overwrites the committed full-size figures).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench import report
from bench.registry import BENCHMARKS, NEEDS_BROWSER, Context
from bench.suite import load

HERE = Path(__file__).resolve().parent


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k estimates instead of 1M (the smoke mode)")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this benchmark (repeatable)")
    parser.add_argument("--no-browser", action="store_true",
                        help="leave out the benchmarks that drive Chromium (for machines without /usr/bin/chromium)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--out", type=Path, help="where to write RESULTS.md and results.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from fleet import allocator

    # the app processes the benchmarks start get the environment ``make run`` gives the app
    os.environ.setdefault("MALLOC_ARENA_MAX", str(allocator.ARENAS))
    allocator.tune()  # as the app and the CLI do (fleet/allocator.py): this process stands for them
    load()
    if args.list:
        print("\n".join(BENCHMARKS))
        return 0
    unknown = [n for n in args.only or [] if n not in BENCHMARKS]
    if unknown:
        print(f"--only: unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    ran = [n for n in args.only or list(BENCHMARKS) if not (args.no_browser and n in NEEDS_BROWSER)]
    ctx = Context(quick=args.quick, repeat=1 if args.quick else 5)
    rows: list[dict] = []
    for name in ran:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        got = BENCHMARKS[name](ctx)
        print(report.table(got), f"\n({time.perf_counter() - started:.1f} s)\n", flush=True)
        rows += got
    out = args.out or (HERE / ".cache" / "quick" if args.quick else HERE)
    report.write(out, rows, ran, args.quick, ctx.sections, BENCHMARKS)
    print(f"wrote {out / 'RESULTS.md'} and {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
