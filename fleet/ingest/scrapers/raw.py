"""What a fetch returns: the raw bytes of one document with their provenance.

"Raw stays raw": a ``RawDocument`` holds the payload exactly as served (after HTTP
content decoding, before any parsing) with the URL asked for and the one answered after
redirects, the HTTP status, the validators (ETag, Last-Modified) for the next
conditional GET, the fetch time, sha256 and size. The store keeps it gzip-compressed
(``compressed``/``from_stored``) so a parse can be re-run later on exactly these bytes.

Imports nothing from the rest of fleet.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime

PAYLOAD_ENCODING = "gzip"


def sha256_hex(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


@dataclass(frozen=True)
class Validators:
    """What the previous fetch of a URL told us, for a conditional GET and the hash short-circuit."""

    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True)
class RawDocument:
    """One fetched document. ``not_modified``: the server answered 304 (no body) to our
    conditional GET; ``unchanged``: it sent a body whose sha256 equals the last one stored."""

    url: str
    final_url: str
    status: int
    fetched_at: datetime  # naive UTC, like every timestamp in the store
    body: bytes = field(repr=False)
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    unchanged: bool = False
    sha256: str = ""
    size: int = 0

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", sha256_hex(self.body))
            object.__setattr__(self, "size", len(self.body))

    @property
    def fresh(self) -> bool:
        """True when the document holds content the store has not seen from this URL."""
        return not (self.not_modified or self.unchanged)

    def compressed(self) -> bytes:
        # mtime=0: the same payload always compresses to the same bytes
        return gzip.compress(self.body, compresslevel=6, mtime=0)

    def with_body(self, body: bytes) -> "RawDocument":
        return replace(self, body=body, sha256=sha256_hex(body), size=len(body))

    @classmethod
    def from_stored(cls, *, payload: bytes, encoding: str, **fields) -> "RawDocument":
        """Rebuild a document from its stored row (the payload decompressed and checked)."""
        if encoding != PAYLOAD_ENCODING:
            raise ValueError(f"stored payload has unknown encoding {encoding!r}")
        body = gzip.decompress(payload)
        doc = cls(body=body, **{k: v for k, v in fields.items() if k not in ("sha256", "size")})
        expected = fields.get("sha256")
        if expected and doc.sha256 != expected:
            raise ValueError(f"stored payload of {doc.url} does not match its sha256 (store corrupted?)")
        return doc
