"""Epoch AI's public datasets (CC-BY 4.0, https://epoch.ai/data): the pure parsers in one place.

Scrapers and the seed builder import from here. Each parser takes the file's bytes and
the URL it came from, checks its required columns first (``SchemaDrift`` names any
that are missing), lists unknown extra columns in the report, and returns ``Parsed``:
records, the organisations they reference, skipped rows with reasons, unknown columns.
The work is done in ``epoch_clusters`` (GPU clusters) and ``epoch_other`` (hardware,
staff reports, AI models).
"""

from __future__ import annotations

from fleet.ingest.epoch_clusters import DATASET as CLUSTERS_DATASET
from fleet.ingest.epoch_clusters import parse_gpu_clusters
from fleet.ingest.epoch_other import parse_ml_hardware, parse_notable_models, parse_staff_reports
from fleet.ingest.errors import IngestError, SchemaDrift
from fleet.ingest.tabular import Parsed

DATASET_URLS = {
    "gpu_clusters": "https://epoch.ai/data/gpu-clusters",
    "ml_hardware": "https://epoch.ai/data/machine-learning-hardware",
    "ai_companies": "https://epoch.ai/data/ai-companies",
    "ai_models": "https://epoch.ai/data/ai-models",
}

__all__ = [
    "CLUSTERS_DATASET", "DATASET_URLS", "IngestError", "Parsed", "SchemaDrift", "parse_gpu_clusters",
    "parse_ml_hardware", "parse_notable_models", "parse_staff_reports",
]
