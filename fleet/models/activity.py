"""The tables around the store: the audit log, editors and login attempts, scraped raw documents
and chip proposals, claims, and snapshots. See ``fleet.models``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    JSON,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fleet.models.base import Base, _one_of
from fleet.vocab import Comparator, ProposalAction, ProposalStatus


class AuditEntry(Base):
    """One change to the store: who, when, what (batch, estimate, organisation ...), and
    the values before and after. Append-only; written in the same transaction as the change.

    A CSV import or scrape writes one entry for its batch (its rows carry the batch id),
    not one per row; manual edits write one entry per changed row with before/after.
    """

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class Editor(Base):
    """A local editor account. ``password_hash`` is argon2id (salted); NULL means the
    account may only log in through the identity provider (OIDC), by e-mail."""

    __tablename__ = "editor"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class LoginAttempt(Base):
    """Failed (and successful) logins, kept so rate limits survive restarts and span
    every server process sharing the store."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    session_key: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)


class RawDocumentRow(Base):
    """A document a scrape fetched, kept gzip-compressed so its parse can be re-run later,
    with the provenance every number from it traces back to."""

    __tablename__ = "raw_document"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    source_name: Mapped[str] = mapped_column(String(200), index=True)  # the scraper
    role: Mapped[str] = mapped_column(String(100))  # which of the scraper's documents
    url: Mapped[str] = mapped_column(String(2000))  # as requested
    final_url: Mapped[str] = mapped_column(String(2000))  # after redirects
    http_status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the uncompressed payload
    size_bytes: Mapped[int] = mapped_column(BigInteger)  # uncompressed
    payload_encoding: Mapped[str] = mapped_column(String(10))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (
        CheckConstraint("size_bytes >= 0", name="size_nonnegative"),
        CheckConstraint("payload_encoding IN ('gzip')", name="payload_encoding"),
    )


class ChipProposal(Base):
    """A change to the curated chip catalog that a scrape proposes and an editor decides.

    ``changes`` maps each catalog field to ``[current, proposed]``. The catalog itself is
    only changed when an editor accepts (never silently by a scrape).
    """

    __tablename__ = "chip_proposal"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    chip_id: Mapped[int | None] = mapped_column(ForeignKey("chip.id"), index=True)  # None: a new chip
    chip_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(10))
    changes: Mapped[dict] = mapped_column(JSON)
    # what is proposed (chip and new values): the same proposal is never stored twice
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(10), default=ProposalStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        CheckConstraint(_one_of("action", ProposalAction), name="action"),
        CheckConstraint(_one_of("status", ProposalStatus), name="status"),
    )


class Claim(Base):
    """A dated, sourced prediction or statement about compute, checked against the store.

    ``metric`` names what is measured (see ``fleet.analytics.claims.METRICS``); a metric
    the evaluator does not know is kept and reported as unevaluable, never guessed.
    ``subject`` is the organisation(s) the claim is about (``;``-separated), ``World``,
    or free text. ``claim_key`` is the stable identifier seeding and links use.
    """

    __tablename__ = "claim"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_key: Mapped[str] = mapped_column(String(120), unique=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(300))
    made_on: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(500))
    metric: Mapped[str] = mapped_column(String(120))
    comparator: Mapped[str] = mapped_column(String(2))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(120))
    target_date: Mapped[date] = mapped_column(Date, index=True)
    source_name: Mapped[str | None] = mapped_column(String(500))
    source_url: Mapped[str] = mapped_column(String(2000))
    note: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    __table_args__ = (CheckConstraint(_one_of("comparator", Comparator), name="comparator"),)


class Snapshot(Base):
    """A frozen view: a page, its full view state and the data cut-off it was rebuilt from.

    ``id`` is the link's random token (``secrets.token_urlsafe``, 192 bits). ``view_state``
    is the JSON of the page's encoded URL parameters with ``as_of`` and ``known_at`` made
    explicit; ``known_at`` equals ``cutoff``, the store's recorded_at high-water mark when
    the snapshot was taken, so the bitemporal store rebuilds the same data. ``data_hash`` is
    the sha256 of the canonical CSV of the page's tables; ``hash_basis`` says which tables:
    ``view`` (the page's registered builder) or ``screen`` (what the page put on screen).
    Deleting sets ``deleted_at`` (a tombstone); the row stays.
    """

    __tablename__ = "snapshot"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    page_id: Mapped[str] = mapped_column(String(100))
    view_state: Mapped[str] = mapped_column(Text)
    cutoff: Mapped[datetime] = mapped_column(DateTime)
    data_hash: Mapped[str] = mapped_column(String(64))
    hash_basis: Mapped[str] = mapped_column(String(10))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (CheckConstraint("hash_basis IN ('view', 'screen')", name="hash_basis"),)
