"""Read an estimates CSV: bytes -> decoded text -> a frame of raw text columns.

Owns the *file-level* rules of the import format: encodings (UTF-8 with or without BOM,
UTF-16 with BOM, a reported Windows-1252/Latin-1 fallback; a file mixing encodings is
refused), the delimiter (sniffed among ``,`` ``;`` and tab), quoted newlines, CRLF,
forgiving header matching (case, spaces, ``Organization``/``org``, ``date``/``as_of``),
and row numbers as a spreadsheet shows them: the header is row 1, the first data row
row 2, and a value with a line break inside quotes stays one row. Values stay text:
typing and checking them is ``fleet.ingest.validate``'s job.

Every failure is a ``CsvError`` (an ``IngestError``) whose message says what to fix.
Parsing is pyarrow's multithreaded CSV reader, so a million rows take about a second.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from fleet.ingest.errors import IngestError

# canonical column -> header spellings accepted besides the canonical one (compared
# after header_key: casefolded, runs of non-alphanumerics as one "_")
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "organisation": ("organization", "org", "organisation_name", "organization_name", "owner", "company"),
    "chip": ("chip_name", "chip_type", "accelerator", "hardware", "gpu"),
    "count": ("chips", "chip_count", "quantity", "number", "number_of_chips"),
    "count_low": ("low", "count_min", "min_count"),
    "count_high": ("high", "count_max", "max_count"),
    "h100e": ("h100_equivalents", "h100_equivalent", "h100e_count"),
    "h100e_low": ("h100_equivalents_low",),
    "h100e_high": ("h100_equivalents_high",),
    "scope": (),
    "cluster": ("cluster_name", "site"),
    "valid_on": ("date", "as_of", "as_of_date", "valid_date"),
    "status": (),
    "certainty": ("confidence",),
    "access": (),
    "user_organisation": ("user_organization", "user_org", "tenant"),
    "country": (),
    "power_mw": ("power", "power_megawatts"),
    "source_url": ("source", "url", "link", "source_link"),
    "extra_source_urls": ("extra_sources", "more_sources", "other_sources"),
    "source_title": ("title",),
    "quote": (),
    "note": ("notes", "comment", "comments"),
}
REQUIRED = ("organisation", "valid_on", "source_url")
ONE_OF_REQUIRED = ("count", "h100e")
MAX_HEADER_COLUMNS = 200
DELIMITERS = (",", ";", "\t")
_MULTIBYTE_UTF8 = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


class CsvError(IngestError):
    """The file cannot be read as an estimates CSV; the message says why and where."""


@dataclass
class RawTable:
    """A parsed file: canonical columns of stripped-free raw text, and where each row is."""

    frame: pd.DataFrame  # canonical column name -> raw text ("" when empty)
    rows: np.ndarray  # the spreadsheet row number of each frame row (header = 1)
    original: pd.DataFrame  # every column as in the file (for the rejects CSV)
    header: dict[str, str]  # canonical column -> header as spelt in the file
    encoding: str
    delimiter: str
    sha256: str
    notices: list[str] = field(default_factory=list)
    bad_rows: list[tuple[int, str]] = field(default_factory=list)  # (row, reason) for unparseable rows


def header_key(text: str) -> str:
    return _NON_ALNUM.sub("_", text.replace("\ufeff", "").strip().casefold()).strip("_")


_CANONICAL = {header_key(c): c for c in COLUMN_ALIASES} | {
    header_key(a): c for c, aliases in COLUMN_ALIASES.items() for a in aliases
}


def decode(data: bytes) -> tuple[str, str, list[str]]:
    """Bytes -> (text, encoding name, notices). Refuses binary files and mixed encodings."""
    if not data or data.isspace():
        raise CsvError("the file is empty")
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _refuse_binary_bytes(data)
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = _strict(data[3:], "utf-8", "UTF-8"), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = _strict(data, "utf-16", "UTF-16"), "utf-16"
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            text, encoding = _legacy(data, exc), "cp1252"
    _refuse_binary(text)
    notices = []
    if encoding == "cp1252":
        notices.append("The file is not UTF-8; it was read as Windows-1252 (Latin-1). "
                       "Check accented names in the preview, or save the file as UTF-8.")
    return text, encoding, notices


def _strict(data: bytes, codec: str, label: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CsvError(f"line {line}: the file starts with a {label} byte-order mark but contains bytes "
                       f"that are not {label} (byte {exc.start}); save it again as {label}") from None


def _legacy(data: bytes, exc: UnicodeDecodeError) -> str:
    line = data.count(b"\n", 0, exc.start) + 1
    if _MULTIBYTE_UTF8.search(data):
        raise CsvError(f"line {line}: mixed encodings — most of the file is UTF-8 but this line is not "
                       "(probably Latin-1/Windows-1252); save the whole file as UTF-8") from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def _refuse_binary_bytes(data: bytes) -> None:
    """Before guessing an encoding: text files have no NUL and few control bytes."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise CsvError(f"line {line}: the file contains NUL bytes — it is binary, not a CSV text file")
    head = data[:65536]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > max(8, len(head) // 100):
        raise CsvError("the file is mostly control characters — it is binary, not a CSV text file")


def _refuse_binary(text: str) -> None:
    head = text[:65536]
    nul = head.find("\x00")
    if nul >= 0 or "\x00" in text:
        line = text.count("\n", 0, max(nul, 0)) + 1
        raise CsvError(f"line {line}: the file contains NUL bytes — it is binary, not a CSV text file")
    controls = sum(1 for ch in head if ch < " " and ch not in "\t\r\n")
    if controls > max(8, len(head) // 100):
        raise CsvError("the file is mostly control characters — it is binary, not a CSV text file")


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: whichever of , ; tab occurs most outside quotes."""
    head = text[:65536].lstrip("\ufeff")
    first = head.split("\n", 1)[0]
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_map(names: list[str]) -> tuple[dict[str, int], list[str]]:
    """canonical column -> position; notices for ignored columns. Refuses duplicates."""
    if len(names) > MAX_HEADER_COLUMNS:
        raise CsvError(f"row 1: the header has {len(names):,} columns; the format has {len(COLUMN_ALIASES)} "
                       f"(at most {MAX_HEADER_COLUMNS} are read) — is this the right file?")
    seen: dict[str, int] = {}
    ignored = []
    for position, name in enumerate(names):
        canonical = _CANONICAL.get(header_key(name))
        if canonical is None:
            if name.strip():
                ignored.append(name.strip())
            continue
        if canonical in seen:
            first = names[seen[canonical]]
            raise CsvError(f"row 1: duplicate column — {first!r} (column {seen[canonical] + 1}) and {name!r} "
                           f"(column {position + 1}) both mean {canonical!r}; keep one")
        seen[canonical] = position
    notices = [f"Ignored column{'s' if len(ignored) > 1 else ''} not in the format: "
               + ", ".join(repr(i) for i in ignored[:10]) + (" …" if len(ignored) > 10 else "")] if ignored else []
    return seen, notices


def _check_required(header: dict[str, int]) -> None:
    missing = [c for c in REQUIRED if c not in header]
    if not any(c in header for c in ONE_OF_REQUIRED):
        missing.append("count (or h100e)")
    if missing:
        hints = "; ".join(f"{m!r} (also accepted: {', '.join(COLUMN_ALIASES.get(m, ())[:3]) or '—'})"
                          for m in missing)
        raise CsvError(f"row 1: missing required column{'s' if len(missing) > 1 else ''}: {hints}")


def _parse(payload: bytes, delimiter: str, *, threads: bool) -> tuple[pa.Table, list]:
    invalid: list = []

    def on_invalid(row) -> str:
        invalid.append(row)
        return "skip"

    table = pacsv.read_csv(
        pa.py_buffer(payload),
        read_options=pacsv.ReadOptions(autogenerate_column_names=True, use_threads=threads,
                                       block_size=8 << 20),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False,
                                         invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(auto_dict_encode=False, strings_can_be_null=False,
                                             column_types=_all_strings(payload, delimiter)),
    )
    return table, invalid


def _all_strings(payload: bytes, delimiter: str) -> dict[str, pa.DataType]:
    # Every column is text; the header's width bounds how many generated names exist.
    end = payload.find(b"\n")
    width = payload[: end if end >= 0 else len(payload)].count(delimiter.encode()) + 1
    return {f"f{i}": pa.string() for i in range(min(width, MAX_HEADER_COLUMNS + 1) + 1)}


class _NotUtf8(Exception):
    """Arrow met bytes that are not UTF-8: take the slow path that finds out what they are."""


def _arrow_table(payload: bytes, delimiter: str) -> tuple[pa.Table, list[tuple[int, str]]]:
    try:
        table, invalid = _parse(payload, delimiter, threads=True)
        if invalid:  # row numbers of bad rows are only known to the single-threaded reader
            table, invalid = _parse(payload, delimiter, threads=False)
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        if "utf8" in str(exc).casefold():
            raise _NotUtf8 from None
        raise CsvError(f"the file is not valid CSV: {_arrow_reason(exc)}") from None
    width = table.num_columns
    bad = [(int(r.number or 0), f"has {r.actual_columns:,} fields but the header has {width:,}"
            + (" (an unclosed quote?)" if r.actual_columns < width else "")) for r in invalid]
    return table, bad


def _arrow_reason(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    text = re.sub(r"^CSV parse error: ", "", text)
    return text[:300]


def _is_utf8(data: bytes) -> bool:
    """Arrow's vectorised UTF-8 check: much faster than decoding to a Python str."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(pa.large_string())
        return True
    except pa.ArrowInvalid:
        return False


def _read_any(data: bytes) -> tuple[pa.Table, list, str, str, list[str]]:
    """Parse ``data`` in whatever encoding it has. Plain UTF-8 (the common, big case) goes
    straight to Arrow, which checks the encoding itself; anything else is decoded first."""
    if not data or data.isspace():
        raise CsvError("the file is empty")
    if not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and _is_utf8(data):
        _refuse_binary_bytes(data)
        delimiter = sniff_delimiter(data[:65536].decode("utf-8", "replace"))
        try:
            table, bad_rows = _arrow_table(data, delimiter)
            return table, bad_rows, delimiter, "utf-8", []
        except _NotUtf8:
            pass
    text, encoding, notices = decode(data)
    payload = data[3:] if encoding == "utf-8-sig" else data if encoding == "utf-8" else text.encode("utf-8")
    delimiter = sniff_delimiter(text)
    del text
    table, bad_rows = _arrow_table(payload, delimiter)
    return table, bad_rows, delimiter, encoding, notices


def read_csv_bytes(data: bytes, *, max_bytes: int | None = None) -> RawTable:
    """Parse an upload. Raises ``CsvError`` when the file as a whole cannot be used."""
    if max_bytes is not None and len(data) > max_bytes:
        raise CsvError(f"the file is {len(data) / 1e6:.1f} MB; the limit here is {max_bytes / 1e6:.0f} MB — "
                       "split it, or use `python -m fleet import`")
    sha256 = hashlib.sha256(data).hexdigest()
    table, bad_rows, delimiter, encoding, notices = _read_any(data)
    if table.num_rows == 0:
        raise CsvError("the file is empty")
    names = [str(v) for v in table.slice(0, 1).to_pylist()[0].values()]
    header, ignored = _header_map(names)
    _check_required(header)
    body = table.slice(1)
    if body.num_rows == 0:
        if bad_rows:
            raise CsvError("no readable data rows: " + "; ".join(f"row {r} {why}" for r, why in bad_rows[:5]))
        raise CsvError("the file has a header but no data rows")
    original = body.to_pandas()
    original.columns = [n if n.strip() else f"column {i + 1}" for i, n in enumerate(names)]
    return _raw_table(original, header, names, bad_rows, delimiter, encoding, sha256, notices + ignored)


def _raw_table(original: pd.DataFrame, header: dict[str, int], names: list[str], bad_rows, delimiter, encoding,
               sha256, notices) -> RawTable:
    rows = np.arange(2, len(original) + 2, dtype=np.int64)
    if bad_rows:  # skipped rows still occupy a row number: renumber around them
        skipped = np.array(sorted(r for r, _ in bad_rows), dtype=np.int64)
        candidates = np.arange(2, len(original) + len(skipped) + 2, dtype=np.int64)
        rows = np.setdiff1d(candidates, skipped)[: len(original)]
    frame = pd.DataFrame({c: original.iloc[:, i] for c, i in header.items()})
    # an empty spreadsheet row, not a record (test the first column first: cheap on big files)
    blank = (original.iloc[:, 0] == "").to_numpy(dtype=bool, copy=True)
    if blank.any():
        blank[blank] = (original.loc[blank] == "").all(axis=1).to_numpy()
    if blank.any():
        frame, original, rows = frame.loc[~blank], original.loc[~blank], rows[~blank]
    if frame.empty and not bad_rows:
        raise CsvError("the file has a header but no data rows")
    return RawTable(frame=frame.reset_index(drop=True), rows=rows, original=original.reset_index(drop=True),
                    header={c: names[i] for c, i in header.items()}, encoding=encoding, delimiter=delimiter,
                    sha256=sha256, notices=notices, bad_rows=bad_rows)
