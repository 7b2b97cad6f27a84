"""``epoch-models``: Epoch AI's notable AI models (+ frontier bounds) -> model runs.

Two documents: the notable-models CSV (the runs and their training compute) and the
frontier-models CSV, read only for lower/upper training-compute bounds. ``--url``
replaces the notable-models URL; the frontier URL stays the configured one.
"""

from __future__ import annotations

from typing import Mapping

from fleet.config import Settings
from fleet.ingest import epoch
from fleet.ingest.scrapers.base import ParseContext, Produces, Request, Scraper
from fleet.ingest.scrapers.raw import RawDocument
from fleet.ingest.tabular import Parsed


class EpochModels(Scraper):
    name = "epoch-models"
    title = "Epoch AI — Data on AI Models (notable and frontier models)"
    produces = Produces.MODEL_RUNS
    homepage = epoch.DATASET_URLS["ai_models"]
    licence = "CC-BY 4.0 (credit Epoch AI)"
    citation_url = homepage
    url_setting = "epoch_models_url"

    def requests(self, settings: Settings, url: str | None = None) -> list[Request]:
        return [Request("main", url or settings.epoch_models_url),
                Request("frontier", settings.epoch_frontier_models_url)]

    def parse(self, docs: Mapping[str, RawDocument], context: ParseContext) -> Parsed:
        frontier = docs.get("frontier")
        return epoch.parse_notable_models(docs["main"].body, source_url=self.citation_url,
                                          frontier_raw=frontier.body if frontier is not None else None)
