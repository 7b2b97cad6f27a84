"""Controlled vocabularies shared by the schema, validation, analytics and UI.

Stored as plain strings with CHECK constraints (portable across SQLite and Postgres,
easy to extend in a batch migration). Import from here; never spell the values inline.
"""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    LAB = "lab"
    HYPERSCALER = "hyperscaler"
    CLOUD = "cloud"  # clouds and neoclouds (CoreWeave, Lambda, Nebius, ...)
    GOVERNMENT = "government"
    ACADEMIC = "academic"
    COMPANY = "company"
    OTHER = "other"
    # Clusters whose owner the source does not name (e.g. Epoch's "Anonymized Chinese
    # System"). They count toward country and world totals but are not an organisation,
    # so the rich/poor split and leaderboards leave them out.
    UNATTRIBUTED = "unattributed"


class Scope(StrEnum):
    FLEET = "fleet"  # the organisation's whole holding of the chip
    CLUSTER = "cluster"  # one named cluster or site: a lower bound of the fleet


class Status(StrEnum):
    PLANNED = "planned"
    OPERATIONAL = "operational"
    DECOMMISSIONED = "decommissioned"


class Certainty(StrEnum):
    CONFIRMED = "confirmed"
    LIKELY = "likely"
    SPECULATIVE = "speculative"


CERTAINTY_RANK = {Certainty.CONFIRMED: 3, Certainty.LIKELY: 2, Certainty.SPECULATIVE: 1}


class Access(StrEnum):
    """How the estimate's organisation (always the owner) relates to the user."""

    OWNED = "owned"  # the owner uses the chips itself
    LEASED = "leased"  # dedicated long-term lease to ``user_organisation``
    RENTED = "rented"  # on-demand cloud rental by ``user_organisation``


class BatchKind(StrEnum):
    SEED = "seed"
    CSV = "csv"
    MANUAL = "manual"
    SCRAPER = "scraper"
    REVERT = "revert"


class HeadcountKind(StrEnum):
    STAFF = "staff"
    RESEARCHERS = "researchers"


class ProposalAction(StrEnum):
    """What a chip catalog proposal (from the ``epoch-hardware`` scraper) would do."""

    ADD = "add"  # a chip the catalog lacks
    UPDATE = "update"  # new figures for a chip the catalog has


class ProposalStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


def values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


class Comparator(StrEnum):
    """How a claim's figure is compared with its value (``figure <op> value``)."""

    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "="


# The article's line between the GPU-rich and the GPU-poor, in H100-equivalents (a default:
# the GPU-rich vs GPU-poor page lets users move it).
GPU_RICH_H100E = 20_000
