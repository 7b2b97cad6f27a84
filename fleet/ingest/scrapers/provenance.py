"""The store side of provenance: raw documents kept per scrape batch, and reading them back.

- ``previous(session, source, urls)``: what the last stored fetch of each URL said (ETag,
  Last-Modified, sha256), for the next conditional GET and the content-hash short-circuit.
- ``stored_document``: a kept document, decompressed and checked against its sha256, so a
  run can re-parse a document the server answered "not modified" for (a scraper with
  two documents where only one changed), or an editor can re-run a parse later.
- ``keep``: write a batch's documents and its main document's provenance columns.
- ``runs_frame`` / ``documents_frame``: past scrape runs for the app and the CLI.

Reads take a session and return data; ``keep`` runs inside the caller's write session.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fleet.ingest.scrapers.raw import PAYLOAD_ENCODING, RawDocument, Validators
from fleet.models import IngestBatch, RawDocumentRow
from fleet.vocab import BatchKind


def previous(session: Session, source: str, urls: Iterable[str]) -> dict[str, tuple[int, Validators]]:
    """URL -> (raw document id, validators) of the latest stored fetch of it by ``source``."""
    urls = list(urls)
    latest = (select(RawDocumentRow.url, func.max(RawDocumentRow.id).label("id"))
              .where(RawDocumentRow.source_name == source, RawDocumentRow.url.in_(urls))
              .group_by(RawDocumentRow.url).subquery())
    rows = session.execute(
        select(RawDocumentRow.id, RawDocumentRow.url, RawDocumentRow.etag, RawDocumentRow.last_modified,
               RawDocumentRow.sha256).join(latest, latest.c.id == RawDocumentRow.id)
    ).all()
    return {r.url: (r.id, Validators(r.etag, r.last_modified, r.sha256)) for r in rows}


def stored_document(session: Session, document_id: int) -> RawDocument:
    row = session.get(RawDocumentRow, document_id)
    if row is None:
        raise LookupError(f"raw document {document_id} is not in the store")
    return RawDocument.from_stored(
        payload=row.payload, encoding=row.payload_encoding, url=row.url, final_url=row.final_url,
        status=row.http_status, fetched_at=row.fetched_at, content_type=row.content_type, etag=row.etag,
        last_modified=row.last_modified, sha256=row.sha256)


def kept_documents(session: Session, batch_id: int) -> dict[str, tuple[str, RawDocument]]:
    """A batch's kept documents, in the order they were fetched: role -> (scraper, document)."""
    rows = session.execute(select(RawDocumentRow.id, RawDocumentRow.role, RawDocumentRow.source_name)
                           .where(RawDocumentRow.batch_id == batch_id).order_by(RawDocumentRow.id)).all()
    return {r.role: (r.source_name, stored_document(session, r.id)) for r in rows}


def keep(session: Session, batch: IngestBatch, source: str, docs: Mapping[str, RawDocument], main: str) -> None:
    """Store every document of the run (compressed) and the main one's provenance on the batch."""
    for role, doc in docs.items():
        session.add(RawDocumentRow(
            batch_id=batch.id, source_name=source, role=role, url=doc.url, final_url=doc.final_url,
            http_status=doc.status, content_type=(doc.content_type or "")[:200] or None, etag=doc.etag,
            last_modified=doc.last_modified, fetched_at=doc.fetched_at, sha256=doc.sha256, size_bytes=doc.size,
            payload_encoding=PAYLOAD_ENCODING, payload=doc.compressed()))
    first = docs[main]
    batch.fetched_at, batch.http_status, batch.etag = first.fetched_at, first.status, first.etag
    batch.last_modified, batch.size_bytes = first.last_modified, first.size
    session.flush()


RUN_COLUMNS = ("id", "source_name", "location", "http_status", "etag", "last_modified", "fetched_at", "sha256",
               "size_bytes", "started_at", "finished_at", "rows_in", "rows_added", "rows_skipped", "rows_rejected",
               "created_by", "note")


def runs_frame(session: Session, *, source: str | None = None, limit: int = 500) -> pd.DataFrame:
    """Scrape batches, newest first, with their provenance columns and how many documents each kept."""
    documents = (select(RawDocumentRow.batch_id, func.count().label("documents"))
                 .group_by(RawDocumentRow.batch_id).subquery())
    stmt = (select(*(getattr(IngestBatch, c) for c in RUN_COLUMNS), func.coalesce(documents.c.documents, 0)
                   .label("documents"))
            .outerjoin(documents, documents.c.batch_id == IngestBatch.id)
            .where(IngestBatch.kind == BatchKind.SCRAPER.value).order_by(IngestBatch.id.desc()).limit(limit))
    if source:
        stmt = stmt.where(IngestBatch.source_name == source)
    return pd.DataFrame(session.execute(stmt).all(), columns=[*RUN_COLUMNS, "documents"])


def documents_frame(session: Session, batch_id: int) -> pd.DataFrame:
    """A batch's documents (without the payload): role, URLs, status, validators, sha256, sizes."""
    stmt = (select(RawDocumentRow.id, RawDocumentRow.role, RawDocumentRow.url, RawDocumentRow.final_url,
                   RawDocumentRow.http_status, RawDocumentRow.content_type, RawDocumentRow.etag,
                   RawDocumentRow.last_modified, RawDocumentRow.fetched_at, RawDocumentRow.sha256,
                   RawDocumentRow.size_bytes, func.length(RawDocumentRow.payload).label("stored_bytes"))
            .where(RawDocumentRow.batch_id == batch_id).order_by(RawDocumentRow.id))
    rows = session.execute(stmt).all()
    return pd.DataFrame(rows, columns=["id", "role", "url", "final_url", "http_status", "content_type", "etag",
                                       "last_modified", "fetched_at", "sha256", "size_bytes", "stored_bytes"])
