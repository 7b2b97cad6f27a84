"""Typed view state <-> URL query parameters. No streamlit: pure and unit-tested.

Every control that changes a view is a ``Param``: a URL key, a parser (text -> value,
raising ``ValueError`` on junk), a formatter (value -> text) and a default. ``decode``
turns query parameters into values and *warnings* -- an unknown basis, a bad date or a
junk number falls back to the default with a short message, never an exception.
``encode`` writes values back, leaving defaults out so URLs stay short and stable.
Multi-valued params are comma-separated in one key (``?kind=lab,cloud``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

from fleet.chips import Basis
from fleet.vocab import Certainty, OrgKind


@dataclass(frozen=True)
class Param:
    key: str
    parse: Callable[[str], Any]
    format: Callable[[Any], str]
    default: Any  # a value, or a zero-argument callable for moving defaults ("today")
    label: str = ""
    multi: bool = False

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default


def choice(options: Iterable[str]) -> Callable[[str], str]:
    allowed = {str(o).casefold(): str(o) for o in options}

    def parse(text: str) -> str:
        key = text.strip().casefold()
        if key not in allowed:
            raise ValueError(f"expected one of {', '.join(sorted(allowed.values()))}")
        return allowed[key]
    return parse


def parse_date(text: str) -> date:
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("expected a date as YYYY-MM-DD, e.g. 2024-06-30") from None
    if not date(1990, 1, 1) <= value <= date(2100, 12, 31):
        raise ValueError("outside 1990-2100")
    return value


def parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("expected a date, or a date and time, as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS") from None
    if value.tzinfo is not None:  # the store keeps naive UTC
        from datetime import UTC

        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def parse_bool(text: str) -> bool:
    key = text.strip().casefold()
    if key in {"1", "true", "yes", "on"}:
        return True
    if key in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def number_in(low: float, high: float, kind: type = float) -> Callable[[str], Any]:
    expected = f"expected {'a whole number' if kind is int else 'a number'} from {low:g} to {high:g}"

    def parse(text: str):
        try:
            number = float(text.strip())
            value = kind(number) if kind is int else number
        except (ValueError, OverflowError):  # Python's own words name neither the setting nor its range
            raise ValueError(expected) from None
        if (kind is int and number != value) or not low <= value <= high:
            raise ValueError(expected)
        return value
    return parse


def fmt_number(value: float) -> str:
    return f"{value:g}"


def fmt_datetime(value: datetime) -> str:
    return value.isoformat(timespec="seconds" if value.microsecond == 0 else "microseconds")


def _as_text(raw: str | Sequence[str]) -> str:
    return raw if isinstance(raw, str) else (raw[-1] if raw else "")


def default_values(params: Iterable[Param]) -> dict[str, Any]:
    """The view state of a page opened with no URL parameters, as ``fleet.ui.state.UrlState`` holds it
    (several-valued params as tuples): what ``python -m fleet warm`` computes pages for."""
    return {p.key: tuple(p.default_value()) if p.multi else p.default_value() for p in params}


def decode(query: Mapping[str, str | Sequence[str]], params: Iterable[Param]) -> tuple[dict[str, Any], list[str]]:
    """URL parameters -> ({key: value}, warnings). Missing or bad values take the default."""
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for param in params:
        values[param.key] = param.default_value()
        if param.key not in query:
            continue
        text = _as_text(query[param.key])
        try:
            if param.multi:
                items = [t for t in (s.strip() for s in text.split(",")) if t]
                values[param.key] = tuple(dict.fromkeys(param.parse(t) for t in items))
            else:
                values[param.key] = param.parse(text)
        except (ValueError, TypeError, OverflowError) as exc:
            shown = text if len(text) <= 40 else text[:37] + "..."
            warnings.append(f"Ignored URL parameter {param.key}={shown!r} ({exc}); using the default.")
            values[param.key] = param.default_value()
    return values, warnings


def encode(values: Mapping[str, Any], params: Iterable[Param]) -> dict[str, str]:
    """Values -> URL parameters, defaults left out."""
    out: dict[str, str] = {}
    for param in params:
        if param.key not in values:
            continue
        value = values[param.key]
        if value == param.default_value():
            continue
        if param.multi:
            out[param.key] = ",".join(param.format(v) for v in value)
        elif value is not None:
            out[param.key] = param.format(value)
    return out


def _none_or(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda text: None if text.strip() == "" else parse(text)


# The sidebar controls every page shares.
SHARED: tuple[Param, ...] = (
    Param("as_of", _none_or(parse_date), lambda d: d.isoformat(), None, "As of (the date fleets are described at)"),
    Param("known_at", _none_or(parse_datetime), fmt_datetime, None, "Known at (what the store knew then)"),
    Param("basis", lambda t: Basis(choice([b.value for b in Basis])(t)), lambda b: b.value, Basis.EIGHT_BIT,
          "H100-equivalent basis"),
    Param("kind", choice([k.value for k in OrgKind]), str, (), "Organisation kind", multi=True),
    Param("country", lambda t: _iso3(t), str, (), "Country", multi=True),
    Param("planned", parse_bool, lambda b: "true" if b else "false", False, "Include planned capacity"),
    Param("certainty", lambda t: Certainty(choice([c.value for c in Certainty])(t)), lambda c: c.value,
          Certainty.SPECULATIVE, "Minimum certainty"),
    Param("attribute", choice(["owner", "user"]), str, "owner", "Count leased/rented capacity under"),
)


def _iso3(text: str) -> str:
    from fleet.countries import UnknownCountry, to_iso3

    try:
        return to_iso3(text)
    except UnknownCountry as exc:
        raise ValueError(str(exc)) from None


@dataclass(frozen=True)
class Filters:
    """The shared controls, typed: what every page's numbers depend on."""

    as_of: date
    known_at: datetime | None = None
    basis: Basis = Basis.EIGHT_BIT
    kinds: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    include_planned: bool = False
    min_certainty: Certainty = Certainty.SPECULATIVE
    attribute_to: str = "owner"

    @classmethod
    def from_values(cls, values: Mapping[str, Any], today: date | None = None) -> "Filters":
        return cls(
            as_of=values.get("as_of") or today or date.today(),
            known_at=values.get("known_at"),
            basis=Basis(values.get("basis", Basis.EIGHT_BIT)),
            kinds=tuple(values.get("kind", ())),
            countries=tuple(values.get("country", ())),
            include_planned=bool(values.get("planned", False)),
            min_certainty=Certainty(values.get("certainty", Certainty.SPECULATIVE)),
            attribute_to=values.get("attribute", "owner"),
        )
