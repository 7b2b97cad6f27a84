"""Errors raised while reading a source: one base class, so callers can catch them all.

Every message names the place (the source, and where it applies the row and column)
so a user can fix the file without reading code.
"""

from __future__ import annotations

from typing import Iterable


class IngestError(ValueError):
    """A source could not be read or a row could not be turned into facts."""


class SchemaDrift(IngestError):
    """A source lacks columns the parser needs (the publisher renamed or dropped them)."""

    def __init__(self, source: str, missing: Iterable[str]) -> None:
        self.source = source
        self.missing = sorted(missing)
        names = ", ".join(repr(m) for m in self.missing)
        plural = "s" if len(self.missing) != 1 else ""
        super().__init__(f"{source}: missing required column{plural} {names}")
