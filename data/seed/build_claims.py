"""Rebuild data/seed/claims.csv from the reference file of the seed article's claims.

    python data/seed/build_claims.py [REFERENCE_CSV]

REFERENCE_CSV defaults to ../shared/reference/article_claims.csv (next to the project),
else tests/data/reference/article_claims.csv (the copy the tests check against). The
derivation only renames columns to the store's names (claim_id -> claim_key, claim ->
text) and orders them; every value, subject and source is kept as the reference gives
it, so a claim the store cannot evaluate stays visible as such.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "data" / "seed" / "claims.csv"
CANDIDATES = (ROOT.parent / "shared" / "reference" / "article_claims.csv",
              Path("/work/shared/reference/article_claims.csv"),
              ROOT / "tests" / "data" / "reference" / "article_claims.csv")
RENAME = {"claim_id": "claim_key", "claim": "text"}
COLUMNS = ["claim_key", "text", "author", "made_on", "subject", "metric", "comparator", "value", "unit",
           "target_date", "source_name", "source_url", "note"]


def derive(reference: pd.DataFrame) -> pd.DataFrame:
    required = set(RENAME) | (set(COLUMNS) - set(RENAME.values()))
    missing = required - set(reference.columns)
    if missing:
        raise SystemExit(f"article_claims.csv lacks columns: {', '.join(sorted(missing))}")
    return reference.rename(columns=RENAME)[COLUMNS]


def main(argv: list[str]) -> None:
    source = Path(argv[1]) if len(argv) > 1 else next((p for p in CANDIDATES if p.is_file()), None)
    if source is None or not source.is_file():
        raise SystemExit(f"reference file not found: {source or CANDIDATES[0]}")
    frame = derive(pd.read_csv(source, dtype=str, keep_default_na=False))
    frame.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {len(frame)} claims to {OUT.relative_to(ROOT)} from {source}")


if __name__ == "__main__":
    main(sys.argv)
