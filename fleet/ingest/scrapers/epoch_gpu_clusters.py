"""``epoch-gpu-clusters``: Epoch AI's "Data on GPU Clusters" CSV -> cluster-scope estimates.

The parsing rules (phases, co-owners, H100e-only rows, decommissioning) are
``fleet.ingest.epoch_clusters``'s, shared with the seed builder, so a scrape of the file
the seed was built from adds nothing. Owners the store does not know yet are proposed
as new organisations (``Parsed.organisations`` says their sector and country).
"""

from __future__ import annotations

from typing import Mapping

from fleet.ingest import epoch
from fleet.ingest.scrapers.base import ParseContext, Produces, Scraper
from fleet.ingest.scrapers.raw import RawDocument
from fleet.ingest.tabular import Parsed


class EpochGpuClusters(Scraper):
    name = epoch.CLUSTERS_DATASET  # "epoch-gpu-clusters": also the seed's batch name for these rows
    title = "Epoch AI — Data on GPU Clusters"
    produces = Produces.ESTIMATES
    homepage = epoch.DATASET_URLS["gpu_clusters"]
    licence = "CC-BY 4.0 (credit Epoch AI)"
    citation_url = homepage
    url_setting = "epoch_gpu_clusters_url"
    creates_organisations = True  # Epoch lists owners; a new one gets its kind from Epoch's sector

    def parse(self, docs: Mapping[str, RawDocument], context: ParseContext) -> Parsed:
        return epoch.parse_gpu_clusters(docs["main"].body, source_url=self.citation_url,
                                        co_owners=context.co_owners, organisations=context.organisations)
