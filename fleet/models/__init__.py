"""The schema: typed SQLAlchemy 2 models with named constraints.

Estimates, headcounts and model runs are *bitemporal and append-only*: a row carries
``recorded_at`` (when the store learnt it, stamped by ``fleet.db.write_session``) and is
never updated in place, except that a retraction sets its tombstone columns
(``retracted_at``, ``retraction_batch_id``) once. A correction is a new estimate whose
``supersedes_id`` points at the one it corrects. "What did the store know at T" is
therefore: recorded at or before T, not retracted by T, and not superseded by an
estimate that was recorded by T and not itself retracted by T (see ``fleet.queries``).

Split by concern: ``base`` (the declarative base and naming convention), ``store`` (the
store's own tables) and ``activity`` (audit, editors, scraping, claims, snapshots); all are
imported here, so ``from fleet.models import Estimate`` and Alembic's metadata see every table.
Imports nothing from fleet but the vocabularies.
"""

from fleet.models.activity import AuditEntry, ChipProposal, Claim, Editor, LoginAttempt, RawDocumentRow, Snapshot
from fleet.models.base import NAMING_CONVENTION, Base
from fleet.models.store import (
    Chip, ChipAlias, Estimate, Headcount, IngestBatch, ModelRun, Organisation, OrganisationAlias, StoreState,
)

__all__ = [
    "NAMING_CONVENTION", "Base", "StoreState", "Organisation", "OrganisationAlias", "Chip", "ChipAlias", "IngestBatch",
    "Estimate", "Headcount", "ModelRun", "AuditEntry", "Editor", "LoginAttempt", "RawDocumentRow", "ChipProposal",
    "Claim", "Snapshot",
]
