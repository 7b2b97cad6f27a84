"""URL <-> typed view state: round trips, defaults omitted, junk -> warning + default."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from fleet.chips import Basis
from fleet.view_state import SHARED, Filters, Param, decode, encode, number_in
from fleet.vocab import Certainty

TOP = Param("top", number_in(1, 200, int), str, 20)


def test_defaults_give_an_empty_url_and_decode_back():
    values, warnings = decode({}, SHARED)
    assert warnings == [] and encode(values, SHARED) == {}
    assert values["basis"] is Basis.EIGHT_BIT and values["kind"] == () and values["as_of"] is None


def test_round_trip_of_every_shared_control():
    values = {"as_of": date(2023, 12, 31), "known_at": datetime(2024, 3, 1, 9, 30), "basis": Basis.BF16,
              "kind": ("lab", "cloud"), "country": ("USA", "CHN"), "planned": True,
              "certainty": Certainty.LIKELY, "attribute": "user"}
    query = encode(values, SHARED)
    assert query == {"as_of": "2023-12-31", "known_at": "2024-03-01T09:30:00", "basis": "bf16",
                     "kind": "lab,cloud", "country": "USA,CHN", "planned": "true", "certainty": "likely",
                     "attribute": "user"}
    decoded, warnings = decode(query, SHARED)
    assert warnings == [] and decoded == values


JUNK = [
    ("basis", "fp4"), ("as_of", "2023-13-45"), ("as_of", "3023-01-01"), ("known_at", "yesterday"),
    ("kind", "lab,wizards"), ("country", "Atlantis"), ("planned", "maybe"), ("certainty", "certain"),
    ("attribute", "thief"),
]


@pytest.mark.parametrize("key, junk", JUNK)
def test_junk_values_warn_and_fall_back_to_the_default(key, junk):
    values, warnings = decode({key: junk}, SHARED)
    default, _ = decode({}, SHARED)
    assert values[key] == default[key]
    assert len(warnings) == 1 and key in warnings[0]


@pytest.mark.parametrize("raw, expected, warned", [
    ("50", 50, False), ("0", 20, True), ("201", 20, True), ("2.5", 20, True), ("abc", 20, True), ("1e400", 20, True),
])
def test_numbers_are_range_checked(raw, expected, warned):
    values, warnings = decode({"top": raw}, [TOP])
    assert values["top"] == expected and bool(warnings) == warned


@pytest.mark.parametrize("key, raw, says", [
    ("top", "abc", "expected a whole number from 1 to 200"), ("top", "2.5", "expected a whole number from 1 to 200"),
    ("top", "1e400", "expected a whole number from 1 to 200"), ("as_of", "yesterday", "expected a date as YYYY-MM-DD"),
    ("known_at", "noon", "expected a date, or a date and time"),
])
def test_a_junk_value_is_explained_in_the_settings_terms_not_pythons(key, raw, says):
    _, warnings = decode({key: raw}, [TOP, *SHARED])
    assert len(warnings) == 1 and warnings[0].startswith(f"Ignored URL parameter {key}={raw!r} ({says}")
    assert "convert" not in warnings[0] and "isoformat" not in warnings[0]


def test_spelling_is_forgiven_for_choices_and_countries():
    values, warnings = decode({"basis": "BF16", "country": "united states,China", "kind": "LAB"}, SHARED)
    assert warnings == []
    assert values["basis"] is Basis.BF16 and values["country"] == ("USA", "CHN") and values["kind"] == ("lab",)


def test_a_list_valued_query_uses_the_last_value_and_long_junk_is_shortened():
    values, _ = decode({"basis": ["price", "power"]}, SHARED)
    assert values["basis"] is Basis.POWER
    _, warnings = decode({"basis": "x" * 500}, SHARED)
    assert len(warnings[0]) < 200


def test_filters_from_values_default_as_of_to_today():
    values, _ = decode({}, SHARED)
    filters = Filters.from_values(values, today=date(2026, 1, 2))
    assert filters.as_of == date(2026, 1, 2) and filters.basis is Basis.EIGHT_BIT
