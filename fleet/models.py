"""The schema: typed SQLAlchemy 2 models with named constraints.

Estimates, headcounts and model runs are *bitemporal and append-only*: a row carries
``recorded_at`` (when the store learnt it, stamped by ``fleet.db.write_session``) and is
never updated in place, except that a retraction sets its tombstone columns
(``retracted_at``, ``retraction_batch_id``) once. A correction is a new estimate whose
``supersedes_id`` points at the one it corrects. "What did the store know at T" is
therefore: recorded at or before T, not retracted by T, and not superseded by an
estimate that was recorded by T and not itself retracted by T (see ``fleet.queries``).

Imports nothing from fleet but the vocabularies.
"""

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
    Index,
    Integer,
    JSON,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from fleet.vocab import (
    Access, BatchKind, Certainty, Comparator, HeadcountKind, OrgKind, ProposalAction, ProposalStatus, Scope, Status,
    values,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _one_of(column: str, enum) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values(enum))})"


def _either(column: str, enum) -> str:
    """``_one_of`` for the hot fact table: SQLite evaluates ``IN (...)`` in a CHECK by
    building a temporary lookup per inserted row; ``a OR b`` costs a million-row import
    about two seconds less (migration 0007)."""
    return " OR ".join(f"{column} = {v!r}" for v in values(enum))


class StoreState(Base):
    """One row (id = 1): the data version and the recorded_at high-water mark."""

    __tablename__ = "store_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    last_write_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class Organisation(Base):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # casefolded, whitespace-collapsed name: the case-insensitive unique key
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(3))  # ISO 3166-1 alpha-3
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    aliases: Mapped[list[OrganisationAlias]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", lazy="selectin"
    )
    __table_args__ = (CheckConstraint(_one_of("kind", OrgKind), name="kind"),)


class OrganisationAlias(Base):
    __tablename__ = "organisation_alias"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(200))
    alias_key: Mapped[str] = mapped_column(String(200), unique=True)
    organisation: Mapped[Organisation] = relationship(back_populates="aliases")


class Chip(Base):
    """The curated chip catalog. FLOP/s figures are dense (never with sparsity)."""

    __tablename__ = "chip"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    vendor: Mapped[str | None] = mapped_column(String(80))
    family: Mapped[str | None] = mapped_column(String(60))  # "H100", "TPU v5p", "Blackwell", ...
    release_date: Mapped[date | None] = mapped_column(Date)
    peak_flops_fp32: Mapped[float | None] = mapped_column(Float)
    peak_flops_bf16: Mapped[float | None] = mapped_column(Float)  # dense tensor BF16/FP16
    peak_ops_8bit: Mapped[float | None] = mapped_column(Float)  # dense FP8 or INT8, the higher
    memory_gb: Mapped[float | None] = mapped_column(Float)
    memory_bw_gb_s: Mapped[float | None] = mapped_column(Float)
    tdp_w: Mapped[float | None] = mapped_column(Float)
    price_usd: Mapped[float | None] = mapped_column(Float)  # release price
    source_url: Mapped[str | None] = mapped_column(String(2000))
    note: Mapped[str | None] = mapped_column(Text)

    aliases: Mapped[list[ChipAlias]] = relationship(
        back_populates="chip", cascade="all, delete-orphan", lazy="selectin"
    )
    __table_args__ = tuple(
        CheckConstraint(f"{col} IS NULL OR {col} > 0", name=f"{col}_positive")
        for col in ("peak_flops_fp32", "peak_flops_bf16", "peak_ops_8bit", "tdp_w", "price_usd")
    )


class ChipAlias(Base):
    __tablename__ = "chip_alias"
    id: Mapped[int] = mapped_column(primary_key=True)
    chip_id: Mapped[int] = mapped_column(ForeignKey("chip.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(120))
    alias_key: Mapped[str] = mapped_column(String(120), unique=True)
    chip: Mapped[Chip] = relationship(back_populates="aliases")


class IngestBatch(Base):
    """One unit of writing: a seed, a CSV import, a manual edit, a scrape or a revert."""

    __tablename__ = "ingest_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    source_name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(2000))  # file name or URL
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    rows_in: Mapped[int] = mapped_column(Integer, default=0)
    rows_added: Mapped[int] = mapped_column(Integer, default=0)
    rows_skipped: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    # A revert batch names the batch it undoes; "reverted by" is the reverse lookup.
    reverts_batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    # A scrape's provenance (its main document; every document is a RawDocumentRow).
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime)
    http_status: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (CheckConstraint(_one_of("kind", BatchKind), name="kind"),)


class _Tombstoned:
    """Columns shared by the append-only fact tables."""

    recorded_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    retracted_at: Mapped[datetime | None] = mapped_column(DateTime)
    retraction_reason: Mapped[str | None] = mapped_column(Text)


class Estimate(_Tombstoned, Base):
    """One source's count of one organisation's chips (or H100e) at one date."""

    __tablename__ = "estimate"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    chip_id: Mapped[int | None] = mapped_column(ForeignKey("chip.id"), index=True)
    # chips when chip_id is set ...
    count: Mapped[int | None] = mapped_column(BigInteger)
    count_low: Mapped[int | None] = mapped_column(BigInteger)
    count_high: Mapped[int | None] = mapped_column(BigInteger)
    # ... H100-equivalents when the source gives no chip (counted as that many H100 SXM)
    h100e: Mapped[float | None] = mapped_column(Float)
    h100e_low: Mapped[float | None] = mapped_column(Float)
    h100e_high: Mapped[float | None] = mapped_column(Float)
    scope: Mapped[str] = mapped_column(String(10))
    cluster: Mapped[str | None] = mapped_column(String(300))
    valid_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    certainty: Mapped[str] = mapped_column(String(20))
    access: Mapped[str] = mapped_column(String(10), default=Access.OWNED.value)
    user_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    country: Mapped[str | None] = mapped_column(String(3))  # where the chips are, if known
    power_mw: Mapped[float | None] = mapped_column(Float)
    source_url: Mapped[str] = mapped_column(String(2000))
    extra_source_urls: Mapped[str | None] = mapped_column(Text)  # newline-separated
    source_title: Mapped[str | None] = mapped_column(Text)
    quote: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("estimate.id"), index=True)
    retraction_batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.id"))
    # sha256 of the identifying fields: a re-import of the same row is skipped
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)

    __table_args__ = (
        Index("ix_estimate_org_chip_valid", "organisation_id", "chip_id", "valid_on"),
        # corrections only, with what "known at T" reads: the live-estimate check never
        # touches the table (migration 0007)
        Index("ix_estimate_correction", "supersedes_id", "recorded_at", "retracted_at",
              sqlite_where=text("supersedes_id IS NOT NULL"), postgresql_where=text("supersedes_id IS NOT NULL")),
        CheckConstraint(_either("scope", Scope), name="scope"),
        CheckConstraint(_either("status", Status), name="status"),
        CheckConstraint(_either("certainty", Certainty), name="certainty"),
        CheckConstraint(_either("access", Access), name="access"),
        CheckConstraint("scope = 'fleet' OR cluster IS NOT NULL", name="cluster_named"),
        CheckConstraint(
            "(chip_id IS NOT NULL AND count IS NOT NULL AND h100e IS NULL)"
            " OR (chip_id IS NULL AND h100e IS NOT NULL AND count IS NULL)",
            name="chips_or_h100e",
        ),
        CheckConstraint("count IS NULL OR count >= 0", name="count_nonnegative"),
        CheckConstraint("count_low IS NULL OR (count IS NOT NULL AND count_low <= count)", name="count_low"),
        CheckConstraint("count_high IS NULL OR (count IS NOT NULL AND count_high >= count)", name="count_high"),
        CheckConstraint("h100e IS NULL OR h100e >= 0", name="h100e_nonnegative"),
        CheckConstraint("h100e_low IS NULL OR (h100e IS NOT NULL AND h100e_low <= h100e)", name="h100e_low"),
        CheckConstraint("h100e_high IS NULL OR (h100e IS NOT NULL AND h100e_high >= h100e)", name="h100e_high"),
    )


class Headcount(_Tombstoned, Base):
    __tablename__ = "headcount"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    count: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    valid_on: Mapped[date] = mapped_column(Date)
    scope_note: Mapped[str | None] = mapped_column(Text)  # "DeepMind division only", ...
    source_url: Mapped[str] = mapped_column(String(2000))
    note: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    retraction_batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.id"))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    __table_args__ = (
        CheckConstraint(_one_of("kind", HeadcountKind), name="kind"),
        CheckConstraint("count > 0", name="count_positive"),
    )


class ModelRun(_Tombstoned, Base):
    """A model's training run: the milestones projections compare against."""

    __tablename__ = "model_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    developer: Mapped[str | None] = mapped_column(Text)  # as the source spells it
    published_on: Mapped[date | None] = mapped_column(Date)
    training_flop: Mapped[float] = mapped_column(Float)
    training_flop_low: Mapped[float | None] = mapped_column(Float)
    training_flop_high: Mapped[float | None] = mapped_column(Float)
    hardware: Mapped[str | None] = mapped_column(Text)
    chip_id: Mapped[int | None] = mapped_column(ForeignKey("chip.id"))
    hardware_quantity: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[str | None] = mapped_column(String(40))
    milestone: Mapped[bool] = mapped_column(Boolean, default=False)  # drawn as a line by default
    source_url: Mapped[str] = mapped_column(String(2000))
    note: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    retraction_batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.id"))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    __table_args__ = (CheckConstraint("training_flop > 0", name="training_flop_positive"),)


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
