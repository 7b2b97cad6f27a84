"""What a scraper is: a named source that knows its URLs and turns fetched bytes into records.

A scraper never touches the network or the store itself. It lists the documents it
needs (``requests``: a role, a URL, the content types it accepts), and ``parse`` turns
the fetched documents -- plus a ``ParseContext`` of curated names the runner reads from
the store -- into a ``Parsed`` (records in *name* form, as the CSV import format has
them). Fetching (``fleet.ingest.scrapers.fetch``) and loading (``...scrapers.loading``)
are shared by every source, so parsing is tested on saved files alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Mapping

import pandas as pd

from fleet.config import Settings
from fleet.ingest.errors import IngestError
from fleet.ingest.scrapers.fetch import CSV_TYPES
from fleet.ingest.scrapers.raw import RawDocument
from fleet.ingest.tabular import Parsed


class Produces(StrEnum):
    """Which table a scraper's records go to."""

    ESTIMATES = "estimates"
    HEADCOUNTS = "headcounts"
    MODEL_RUNS = "model_runs"
    CHIPS = "chips"  # proposals to the curated catalog, never written directly


@dataclass(frozen=True)
class Request:
    """One document a run fetches."""

    role: str
    url: str
    accept: tuple[str, ...] = CSV_TYPES
    options: Any = None  # whatever the scraper needs to parse this document (e.g. a table spec)


@dataclass(frozen=True)
class ParseContext:
    """Curated knowledge a parser may use, read from the store and the project by the runner.

    ``organisations``: the store's organisations (name, aliases "|"-joined);
    ``co_owners``: the curated multi-owner rules (``data/seed/curation/co_owners.csv``);
    ``requests``: the requests this run made; ``milestones`` and ``model_names``: the
    curated milestone runs and display names (``data/seed/curation/model_runs.csv``).
    """

    organisations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["name", "aliases"]))
    co_owners: pd.DataFrame | None = None
    requests: tuple[Request, ...] = ()  # what was fetched, so parse can find each document's options
    milestones: frozenset[str] = frozenset()  # casefolded model names drawn as milestones
    model_names: Mapping[str, str] = field(default_factory=dict)  # casefolded source name -> curated name


class ScraperError(IngestError):
    """A scraper was asked for something it cannot do (a bad --url, a bad config file)."""


class NotConfigured(ScraperError):
    """The scraper has nothing to fetch until someone configures it (``html-table``'s tables)."""


class Scraper:
    """Base class: subclasses set the class attributes and implement ``parse``."""

    name: str = ""
    title: str = ""
    produces: Produces = Produces.ESTIMATES
    homepage: str = ""  # where a person reads about the source
    licence: str = ""
    citation_url: str = ""  # what records cite when the source gives no URL of its own
    url_setting: str = ""  # the Settings field holding the main document's URL
    # Owners the store does not know become new organisations (else they are rejected rows
    # with a "did you mean"); only for sources whose every owner is an organisation.
    creates_organisations: bool = False

    def requests(self, settings: Settings, url: str | None = None) -> list[Request]:
        """The documents to fetch; ``url`` replaces the main document's configured URL."""
        return [Request("main", url or getattr(settings, self.url_setting))]

    def parse(self, docs: Mapping[str, RawDocument], context: ParseContext) -> Parsed:
        raise NotImplementedError

    def describe(self, settings: Settings) -> dict[str, str]:
        urls = ", ".join(r.url for r in self.requests(settings))
        return {"name": self.name, "title": self.title, "produces": self.produces.value, "urls": urls,
                "homepage": self.homepage, "licence": self.licence}
