"""The store's tables: organisations, chips and their aliases, ingest batches, and the three
bitemporal fact tables (estimates, headcounts, model runs). See ``fleet.models``."""

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
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fleet.models.base import Base, _Tombstoned, _either, _one_of
from fleet.vocab import Access, BatchKind, Certainty, HeadcountKind, OrgKind, Scope, Status


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


class Estimate(_Tombstoned, Base):
    """One source's count of one organisation's chips (or H100e) at one date."""

    __tablename__ = "estimate"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    chip_id: Mapped[int | None] = mapped_column(ForeignKey("chip.id"))  # no index of its own: migration 0009
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
    # looked up through ix_estimate_correction (``supersedes_id = x`` implies its condition)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("estimate.id"))
    retraction_batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.id"))
    # sha256 of the identifying fields: a re-import of the same row is skipped
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)

    __table_args__ = (
        Index("ix_estimate_org_chip_valid", "organisation_id", "chip_id", "valid_on"),
        # corrections only, with what "known at T" reads: the live-estimate check never
        # touches the table (migration 0007)
        Index("ix_estimate_correction", "supersedes_id", "recorded_at", "retracted_at",
              sqlite_where=text("supersedes_id IS NOT NULL"), postgresql_where=text("supersedes_id IS NOT NULL")),
        # retracted rows only: "recorded or retracted since T" reads two indexes, not the table (migration 0008)
        Index("ix_estimate_retracted", "retracted_at",
              sqlite_where=text("retracted_at IS NOT NULL"), postgresql_where=text("retracted_at IS NOT NULL")),
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
