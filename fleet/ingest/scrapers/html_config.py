"""The ``html-table`` scraper's config file: which pages, which table, which columns.

A small TOML file (``FLEET_HTML_TABLES_CONFIG``, default ``data/scrapers/html_tables.toml``)
with one ``[[table]]`` per page::

    [[table]]
    name = "wikipedia-gpu-clusters"     # names the table in notes and errors
    url = "https://en.wikipedia.org/wiki/..."
    selector = "table.wikitable"        # CSS selector; `index` picks among several matches (0 = first)
    skip_if_empty = ["count"]           # rows without these are not data (a CPU-only system, a subtotal)
    title = "Wikipedia, List of ..."    # cited as source_title (default: the page's <title>)
    licence = "CC BY-SA 4.0"

    [table.fixed]                       # the same value on every row
    scope = "cluster"

    [table.columns]                     # field = header text, or a table of options:
    organisation = "Owner"
    count = { header = "Accelerators", regex = '([\\d,]+)\\s*[×x]' }
    chip = { header = "Accelerators", regex = '[×x]\\s*(.+)$', map = { "Nvidia H100" = "NVIDIA H100 SXM5 80GB" } }
    valid_on = { header = "Operational" }
    source_url = { header = "Ref", link = true }

Options: ``header`` (the column's header text, or "Group / Sub" for two-row headers),
``regex`` + ``group`` (extract part of the cell), ``line`` (1-based line of a cell
split at ``<br>``), ``map`` (replace whole values, compared case-insensitively),
``link`` (the cell's first link, resolving Wikipedia-style ``#cite_note`` references
to the note's first external link). Fields are the CSV import format's columns.
Every mistake is reported with the file, the table and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.config import PROJECT_ROOT
from fleet.ingest.scrapers.base import NotConfigured, ScraperError

FIELDS = (
    "organisation", "chip", "count", "count_low", "count_high", "h100e", "h100e_low", "h100e_high", "scope",
    "cluster", "valid_on", "status", "certainty", "access", "user_organisation", "country", "power_mw",
    "source_url", "extra_source_urls", "source_title", "quote", "note",
)
NUMBER_FIELDS = {"count", "count_low", "count_high", "h100e", "h100e_low", "h100e_high", "power_mw"}
DATE_FIELDS = {"valid_on"}
STATUS_WORDS = {
    "operational": "operational", "existing": "operational", "active": "operational", "in service": "operational",
    "online": "operational", "planned": "planned", "under construction": "planned", "announced": "planned",
    "proposed": "planned", "decommissioned": "decommissioned", "retired": "decommissioned",
}
_OPTIONS = {"header", "regex", "group", "line", "map", "link"}
_TABLE_KEYS = {"name", "url", "selector", "index", "title", "licence", "fixed", "columns", "skip_if_empty"}


@dataclass(frozen=True)
class ColumnRule:
    field: str
    header: str
    regex: re.Pattern | None = None
    group: int = 1
    line: int | None = None
    values: dict[str, str] = field(default_factory=dict)  # casefolded source value -> value
    link: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    url: str
    selector: str
    columns: tuple[ColumnRule, ...]
    index: int = 0
    title: str = ""
    licence: str = ""
    fixed: dict[str, str] = field(default_factory=dict)
    skip_if_empty: tuple[str, ...] = ()  # rows with none of these fields are not data rows (skipped)

    def headers(self) -> list[str]:
        return list(dict.fromkeys(rule.header for rule in self.columns))


def _fail(where: str, message: str) -> ScraperError:
    return ScraperError(f"{where}: {message}")


def column_rule(name: str, value: Any, where: str) -> ColumnRule:
    where = f"{where}, columns.{name}"
    if name not in FIELDS:
        raise _fail(where, f"unknown field {name!r} (fields: {', '.join(FIELDS)})")
    if isinstance(value, str):
        value = {"header": value}
    if not isinstance(value, dict) or not isinstance(value.get("header"), str) or not value["header"].strip():
        raise _fail(where, "give the column's header text, e.g. count = \"GPUs\"")
    unknown = set(value) - _OPTIONS
    if unknown:
        raise _fail(where, f"unknown option(s) {sorted(unknown)} (options: {sorted(_OPTIONS)})")
    try:
        regex = re.compile(value["regex"]) if value.get("regex") else None
    except re.error as exc:
        raise _fail(where, f"bad regex {value['regex']!r}: {exc}") from None
    group = value.get("group", 1)
    if regex is not None and not (isinstance(group, int) and 0 <= group <= regex.groups):
        raise _fail(where, f"group {group!r} does not exist in the regex (it has {regex.groups})")
    mapping = value.get("map", {})
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise _fail(where, "map must be a table of text values")
    line = value.get("line")
    if line is not None and not (isinstance(line, int) and line >= 1):
        raise _fail(where, "line must be a whole number from 1")
    return ColumnRule(name, value["header"].strip(), regex, group, line,
                      {str(k).strip().casefold(): v for k, v in mapping.items()}, bool(value.get("link", False)))


def table_spec(raw: Any, where: str) -> TableSpec:
    if not isinstance(raw, dict):
        raise _fail(where, "each [[table]] must be a table")
    unknown = set(raw) - _TABLE_KEYS
    if unknown:
        raise _fail(where, f"unknown key(s) {sorted(unknown)}")
    for key in ("name", "url", "selector"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise _fail(where, f"{key!r} is required")
    where = f"{where} ({raw['name']})"
    if not re.match(r"^https?://", raw["url"]):
        raise _fail(where, f"url {raw['url']!r} is not an absolute http(s) URL")
    columns = raw.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise _fail(where, "[table.columns] must map at least one field to a header")
    fixed = raw.get("fixed", {})
    if not isinstance(fixed, dict) or set(fixed) - set(FIELDS):
        raise _fail(where, f"[table.fixed] may only set fields ({', '.join(FIELDS)})")
    skip = raw.get("skip_if_empty", [])
    if not isinstance(skip, list) or set(skip) - set(columns):
        raise _fail(where, "skip_if_empty must list fields mapped in [table.columns]")
    index = raw.get("index", 0)
    if not isinstance(index, int) or index < 0:
        raise _fail(where, "index must be a whole number from 0")
    return TableSpec(name=raw["name"].strip(), url=raw["url"].strip(), selector=raw["selector"],
                     columns=tuple(column_rule(k, v, where) for k, v in columns.items()),
                     index=index, title=str(raw.get("title", "")), licence=str(raw.get("licence", "")),
                     fixed={k: str(v) for k, v in fixed.items()}, skip_if_empty=tuple(skip))


def parse_config(text: str, where: str) -> list[TableSpec]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(where, f"not valid TOML ({exc})") from None
    tables = data.get("table")
    if tables is None:
        raise NotConfigured(f"{where}: no [[table]] entries — add one for the page to scrape (see README, Scrapers)")
    if not isinstance(tables, list) or not tables:
        raise _fail(where, "no [[table]] entries")
    specs = [table_spec(t, f"{where}, table {i + 1}") for i, t in enumerate(tables)]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise _fail(where, f"table names must be unique (got {names})")
    return specs


def shown_path(path: Path) -> str:
    """How messages name the config file: its place in the project (``data/scrapers/...``), or
    only its name when it lives elsewhere -- the Scrapers page shows these messages to anyone,
    and the server's own folders are none of a visitor's business."""
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return path.name


def load_config(path: str | Path) -> list[TableSpec]:
    path = Path(path)
    if not path.is_file():
        raise NotConfigured(f"html-table: config file {shown_path(path)} not found (set FLEET_HTML_TABLES_CONFIG)")
    return parse_config(path.read_text(encoding="utf-8"), shown_path(path))
