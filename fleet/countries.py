"""Country names to ISO 3166-1 alpha-3 codes (what the store keeps) and back.

Sources spell countries many ways ("Korea (Republic of)", "UK", "USA"); pycountry
does the lookup, a short table covers the spellings it does not know.
"""

from __future__ import annotations

from functools import lru_cache

import pycountry

_OVERRIDES = {
    "korea (republic of)": "KOR",
    "south korea": "KOR",
    "republic of korea": "KOR",
    "philippines (the)": "PHL",
    "russia": "RUS",
    "uk": "GBR",
    "england": "GBR",
    "united states": "USA",
    "us": "USA",
    "u.s.": "USA",
    "u.s.a.": "USA",
    "taiwan": "TWN",
    "hong kong": "HKG",
    "iran": "IRN",
    "vietnam": "VNM",
    "turkey": "TUR",
    "czech republic": "CZE",
    "the netherlands": "NLD",
    "uae": "ARE",
}

# Regions the Countries page compares; everything else is "Rest of world".
# Europe = the 27 EU members + the United Kingdom + the four EFTA members (Iceland,
# Liechtenstein, Norway, Switzerland).
EU27 = frozenset(
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT ROU "
    "SVK SVN ESP SWE".split()
)
EFTA = frozenset({"ISL", "LIE", "NOR", "CHE"})
EUROPE = EU27 | {"GBR"} | EFTA
EUROPE_DEFINITION = ("Europe = the 27 EU member states + the United Kingdom + EFTA "
                     "(Iceland, Liechtenstein, Norway, Switzerland)")


class UnknownCountry(ValueError):
    pass


@lru_cache(maxsize=1024)
def to_iso3(name: str) -> str:
    """ISO alpha-3 code for a country name or code; raises ``UnknownCountry``."""
    text = name.strip()
    if not text:
        raise UnknownCountry("empty country")
    if text.casefold() in _OVERRIDES:
        return _OVERRIDES[text.casefold()]
    try:
        return pycountry.countries.lookup(text).alpha_3
    except LookupError:
        pass
    try:
        hits = pycountry.countries.search_fuzzy(text)
    except LookupError:
        hits = []
    if len(hits) == 1:
        return hits[0].alpha_3
    raise UnknownCountry(f"{name!r} is not a country pycountry or Fleet knows")


@lru_cache(maxsize=512)
def _name(iso3: str) -> str:
    try:
        country = pycountry.countries.get(alpha_3=iso3)
    except LookupError:
        country = None
    if country is None:
        return iso3
    return getattr(country, "common_name", None) or country.name


def country_name(iso3: object) -> str:
    """Display name of an ISO alpha-3 code; "Unknown" for a missing one."""
    if not isinstance(iso3, str) or not iso3:
        return "Unknown"
    return _name(iso3)


def region(iso3: object) -> str:
    if iso3 == "USA":
        return "United States"
    if iso3 == "CHN":
        return "China"
    if iso3 in EUROPE:
        return "Europe"
    return "Rest of world" if isinstance(iso3, str) and iso3 else "Unknown"
