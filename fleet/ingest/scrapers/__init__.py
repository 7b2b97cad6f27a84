"""Scrapers: one module per source, registered here by name.

Each scraper knows its default URL(s) (settings), fetches raw bytes through the shared
fetch layer (``fetch``) and parses them with a pure function (``base.Scraper.parse``);
the runner (``runner``) plans and loads a run as one ingest batch with its provenance.
Importing this package registers every scraper; nothing here touches the network.
"""

from __future__ import annotations

from fleet.ingest.scrapers.base import Scraper, ScraperError
from fleet.ingest.scrapers.epoch_gpu_clusters import EpochGpuClusters
from fleet.ingest.scrapers.epoch_hardware import EpochHardware
from fleet.ingest.scrapers.epoch_models import EpochModels
from fleet.ingest.scrapers.epoch_staff import EpochStaff
from fleet.ingest.scrapers.html_table import HtmlTable

REGISTRY: dict[str, Scraper] = {s.name: s for s in (
    EpochGpuClusters(), EpochHardware(), EpochStaff(), EpochModels(), HtmlTable(),
)}


def names() -> list[str]:
    return list(REGISTRY)


def get(name: str) -> Scraper:
    """The scraper called ``name``; an unknown name lists the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ScraperError(f"no scraper called {name!r}; known: {', '.join(REGISTRY)}") from None
