"""The import format is documented where users look: the README and the in-app help come
from the same description as the template."""

from __future__ import annotations

from pathlib import Path

from fleet.ingest.csv_import import COLUMN_ALIASES, REQUIRED
from fleet.ingest.template import FORMAT, HELP, template_frame

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_format_column_and_alias_is_in_the_readme():
    for column, required, meaning, _ in FORMAT:
        assert f"| `{column}` | {required} | {meaning} |" in README
        for alias in COLUMN_ALIASES[column]:
            assert f"`{alias}`" in README


def test_the_format_covers_every_column_the_reader_knows():
    assert [c for c, *_ in FORMAT] == list(template_frame().columns)
    assert set(COLUMN_ALIASES) == {c for c, *_ in FORMAT}
    assert all(dict((c, r) for c, r, *_ in FORMAT)[c] == "yes" for c in REQUIRED)


def test_row_numbering_is_stated_in_the_readme_and_the_help():
    assert "the header is row 1" in README and "the header is row 1" in HELP
