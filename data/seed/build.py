"""Rebuild the seed CSVs in data/seed/ from Epoch AI's datasets and the reference facts.

    python data/seed/build.py [--shared PATH] [--out data/seed]

--shared is the folder holding external/epoch/ and reference/ (default: <repo>/../shared);
when it does not exist, the copies in tests/data/ (epoch/, reference/) are used. The
curation files are always data/seed/curation/. Prints the build report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from fleet.ingest.seed_build import build_seed, format_report, read_inputs, write_seed  # noqa: E402


def input_dirs(shared: Path | None) -> tuple[Path, Path]:
    """(epoch dir, reference dir): the shared layout, else the test copies."""
    candidates = [shared] if shared else [REPO.parent / "shared", REPO / "tests" / "data"]
    for base in candidates:
        for epoch_dir in (base / "external" / "epoch", base / "epoch"):
            if epoch_dir.is_dir() and (base / "reference").is_dir():
                return epoch_dir, base / "reference"
    raise SystemExit(f"no Epoch/reference inputs under {', '.join(str(c) for c in candidates)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=None, help="folder with external/epoch/ and reference/")
    parser.add_argument("--out", type=Path, default=REPO / "data" / "seed", help="where to write the seed CSVs")
    args = parser.parse_args(argv)
    epoch_dir, reference_dir = input_dirs(args.shared)
    tables, report = build_seed(read_inputs(epoch_dir, reference_dir, REPO / "data" / "seed" / "curation"))
    write_seed(tables, args.out)
    print(f"inputs: {epoch_dir} and {reference_dir}")
    print(format_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
