"""``epoch-staff``: Epoch AI's AI-companies staff reports CSV -> dated headcounts.

Divisions map to their organisation with a scope note, contractors are skipped; the
rules are ``fleet.ingest.epoch_other.parse_staff_reports``'s, shared with the seed.
"""

from __future__ import annotations

from typing import Mapping

from fleet.ingest import epoch
from fleet.ingest.scrapers.base import ParseContext, Produces, Scraper
from fleet.ingest.scrapers.raw import RawDocument
from fleet.ingest.tabular import Parsed


class EpochStaff(Scraper):
    name = "epoch-staff"
    title = "Epoch AI — Data on AI Companies (staff reports)"
    produces = Produces.HEADCOUNTS
    homepage = epoch.DATASET_URLS["ai_companies"]
    licence = "CC-BY 4.0 (credit Epoch AI)"
    citation_url = homepage
    url_setting = "epoch_staff_url"

    def parse(self, docs: Mapping[str, RawDocument], context: ParseContext) -> Parsed:
        return epoch.parse_staff_reports(docs["main"].body, source_url=self.citation_url)
