"""``epoch-hardware``: Epoch AI's "Data on Machine Learning Hardware" CSV -> chip catalog proposals.

The catalog is curated: a scrape never changes it. Its records become proposals (a new
chip, or changed figures of a known one) that an editor accepts or rejects
(``fleet.ingest.scrapers.proposals``). Parsing is ``fleet.ingest.epoch_other``'s.
"""

from __future__ import annotations

from typing import Mapping

from fleet.ingest import epoch
from fleet.ingest.scrapers.base import ParseContext, Produces, Scraper
from fleet.ingest.scrapers.raw import RawDocument
from fleet.ingest.tabular import Parsed


class EpochHardware(Scraper):
    name = "epoch-hardware"
    title = "Epoch AI — Data on Machine Learning Hardware"
    produces = Produces.CHIPS
    homepage = epoch.DATASET_URLS["ml_hardware"]
    licence = "CC-BY 4.0 (credit Epoch AI)"
    citation_url = homepage
    url_setting = "epoch_hardware_url"

    def parse(self, docs: Mapping[str, RawDocument], context: ParseContext) -> Parsed:
        return epoch.parse_ml_hardware(docs["main"].body, source_url=self.citation_url)
