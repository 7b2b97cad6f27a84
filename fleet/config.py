"""Settings: the only module that reads the environment and secrets.

Precedence, highest first: environment variables (``FLEET_*``), Streamlit's
``secrets.toml`` (project ``.streamlit/`` then ``~/.streamlit/``; read here with
``tomllib`` so that nothing outside ``fleet.ui`` imports streamlit), then defaults.
Everything else receives a ``Settings`` object; nothing reads ``os.environ`` itself.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///data/fleet.db"

# Setting name -> (environment variable, secrets.toml key, description). The README
# documents each one; tests/test_docs.py checks that it does.
SETTINGS_DOC: dict[str, tuple[str, str, str]] = {
    "database_url": ("FLEET_DATABASE_URL", "database_url",
                     "SQLAlchemy URL of the store; sqlite:///path or postgresql+psycopg://..."),
    "base_url": ("FLEET_BASE_URL", "base_url",
                 "Public URL of the app, used to build shareable and snapshot links"),
    "seed_dir": ("FLEET_SEED_DIR", "seed_dir", "Folder of the seed CSVs loaded by `fleet seed`"),
    "frame_cache_dir": ("FLEET_FRAME_CACHE_DIR", "frame_cache_dir",
                        "Folder where the app keeps big frames (Parquet, keyed on the data version); `off`: none"),
    # scrapers (fleet/ingest/scrapers): where each source is fetched from
    "epoch_gpu_clusters_url": ("FLEET_EPOCH_GPU_CLUSTERS_URL", "epoch_gpu_clusters_url",
                               "CSV fetched by the `epoch-gpu-clusters` scraper"),
    "epoch_hardware_url": ("FLEET_EPOCH_HARDWARE_URL", "epoch_hardware_url",
                           "CSV fetched by the `epoch-hardware` scraper"),
    "epoch_staff_url": ("FLEET_EPOCH_STAFF_URL", "epoch_staff_url", "CSV fetched by the `epoch-staff` scraper"),
    "epoch_models_url": ("FLEET_EPOCH_MODELS_URL", "epoch_models_url",
                         "Notable-models CSV fetched by the `epoch-models` scraper"),
    "epoch_frontier_models_url": ("FLEET_EPOCH_FRONTIER_MODELS_URL", "epoch_frontier_models_url",
                                  "Frontier-models CSV (training-compute bounds) fetched by `epoch-models`"),
    "html_tables_config": ("FLEET_HTML_TABLES_CONFIG", "html_tables_config",
                           "TOML file of the pages, CSS selectors and column mappings `html-table` scrapes"),
    "scrape_user_agent": ("FLEET_SCRAPE_USER_AGENT", "scrape_user_agent",
                          "User-Agent the scrapers send (say who runs them and how to reach you)"),
}


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Immutable; use ``dataclasses.replace`` to override."""

    database_url: str = DEFAULT_DATABASE_URL
    base_url: str = "http://localhost:8501"
    seed_dir: str = str(PROJECT_ROOT / "data" / "seed")
    frame_cache_dir: str = str(PROJECT_ROOT / "data" / ".frames")
    epoch_gpu_clusters_url: str = "https://epoch.ai/data/gpu_clusters.csv"
    epoch_hardware_url: str = "https://epoch.ai/data/ml_hardware.csv"
    epoch_staff_url: str = "https://epoch.ai/data/ai_companies_staff_reports.csv"
    epoch_models_url: str = "https://epoch.ai/data/notable_ai_models.csv"
    epoch_frontier_models_url: str = "https://epoch.ai/data/frontier_ai_models.csv"
    html_tables_config: str = str(PROJECT_ROOT / "data" / "scrapers" / "html_tables.toml")
    scrape_user_agent: str = ""  # empty: fleet.ingest.scrapers.fetch.DEFAULT_USER_AGENT
    secrets: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def with_database(self, url: str | None) -> "Settings":
        return self if not url else replace(self, database_url=url)


def _secrets_paths() -> list[Path]:
    return [PROJECT_ROOT / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"]


def load_secrets(paths: list[Path] | None = None) -> dict[str, Any]:
    """Merge the secrets files; the project file wins over the user file."""
    merged: dict[str, Any] = {}
    for path in reversed(paths if paths is not None else _secrets_paths()):
        if path.is_file():
            with path.open("rb") as fh:
                merged.update(tomllib.load(fh))
    return merged


def absolutise_sqlite(url: str) -> str:
    """Make a relative ``sqlite:///x`` URL relative to the project, not the cwd."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(PROJECT_ROOT / url[len(prefix):])
    return url


def get_settings(env: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None) -> Settings:
    env = os.environ if env is None else env
    secrets = load_secrets() if secrets is None else secrets
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name not in SETTINGS_DOC:
            continue
        env_name, secret_key, _ = SETTINGS_DOC[f.name]
        if env.get(env_name):
            values[f.name] = env[env_name]
        elif secret_key in secrets and secrets[secret_key]:
            values[f.name] = str(secrets[secret_key])
    settings = Settings(**values, secrets=dict(secrets))
    return replace(settings, database_url=absolutise_sqlite(settings.database_url))
