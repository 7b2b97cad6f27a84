"""Name keys and fuzzy suggestions for organisations and chips.

A *name key* is how names are compared: Unicode-normalised, casefolded, punctuation
other than ``+ . &`` dropped, whitespace collapsed. "Meta AI", "meta  ai" and
"Meta-AI" share a key; the store's unique indexes are on keys, so uniqueness is
case-insensitive everywhere.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Iterable

_DROP = re.compile(r"[^\w\s+.&]", re.UNICODE)
_SPACE = re.compile(r"[\s_]+")


def name_key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _DROP.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def clean_name(name: str) -> str:
    """Display form: NFKC, inner whitespace collapsed, trimmed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", name)).strip()


def suggest(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Closest known names to ``name`` (for "did you mean ...?" messages)."""
    pool = {name_key(c): c for c in candidates}
    keys = difflib.get_close_matches(name_key(name), list(pool), n=limit, cutoff=0.6)
    if not keys:  # substring matches catch "Meta" vs "Meta Platforms" that ratio misses
        key = name_key(name)
        keys = [k for k in pool if key and (key in k or k in key)][:limit]
    return [pool[k] for k in keys]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    hits = suggest(name, candidates)
    if not hits:
        return ""
    return " — did you mean " + " or ".join(repr(h) for h in hits) + "?"
