"""Big SQLite reads in a child process, straight into Arrow columns.

Reading a million estimates through Python's ``sqlite3`` builds 26 million Python
objects (about 9 s and 2 GB at 1M here); ADBC's SQLite driver reads the same rows into
Arrow columns in under 2 s. But ADBC links its own copy of SQLite, and two SQLite
libraries in one process break SQLite's POSIX locking: closing a file in one drops the
other's locks (sqlite.org/howtocorrupt.html, section 2.2). So the read runs in a child
process that loads only ADBC's SQLite (``_child``); it hands the
rows back as Arrow IPC streams written into files in memory the parent made for it
(``os.memfd_create``; an unnamed temporary file elsewhere), the text columns in a file of
their own so that they do not keep the numeric columns' bytes alive in the parent. The
parent maps each file once the child has exited and reads the columns in place: no child
waits on a pipe for the parent to drain another's rows, each exits (and frees its memory)
as soon as its rows are written, and the parent copies nothing to receive them. Two
processes locking one file is how SQLite is meant to be shared.

The child reads the store's data version and the rows in one read transaction and
sends the version with them; ``read`` returns both, so the caller can check that the
rows are those its own session would have read (``fleet.queries``).

``read`` returns None -- and the caller reads through the driver -- when ADBC is not
installed or the child fails (logged as a warning with the child's message). This
module imports neither ``sqlite3`` nor SQLAlchemy: the child must load one SQLite only.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)
# the child finds this package wherever the parent was started from, and says what failed in one line
_CHILD = f"""
import os, sys
sys.modules["numpy"] = None  # pyarrow runs without numpy, whose import was a third of the child's start
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from fleet.sqlite_reader import _child
try:
    _child()
except Exception as exc:
    sys.stderr.write(type(exc).__name__ + ": " + " ".join(str(exc).split()))
    sys.exit(1)
os._exit(0)  # the rows are sent: skip tearing the interpreter down (a fifth of a second at 1M)
"""
VERSION_SQL = "SELECT version FROM store_state WHERE id = 1"
TIMEOUT_S = 600
STREAMS = 2  # the numeric columns' stream, then the text columns' (``_child``)


def available() -> bool:
    """Is ADBC's SQLite driver installed (in this interpreter, which the child also runs)?"""
    return find_spec("adbc_driver_sqlite") is not None


def read(path: str | Path, *parts: str, types: dict[str, str] | None = None):
    """``(data version or None, [pyarrow.Table, ...])``: each of the SQL ``parts`` run on the SQLite
    file ``path`` by a child process of its own, all at once (a big read split in parts uses every
    core), each in one transaction. ``types`` maps columns to Arrow type names ("int64",
    "large_string", "timestamp[s]", ...) the children cast them to (text to days or stamps:
    ISO 8601). None -- the reason logged -- if a child failed, or if the children read different
    data versions (a write committed between their starts)."""
    with ExitStack() as stack:
        started = []
        for sql in parts:
            outputs = [stack.enter_context(_output()) for _ in range(STREAMS)]
            errors = stack.enter_context(tempfile.TemporaryFile())
            started.append((_start(path, {"sql": sql, "types": types or {}}, outputs, errors), outputs, errors))
        got = [_finish(path, *child) for child in started]  # every child, even after a failure
    if any(part is None for part in got):
        return None
    versions = {version for version, _ in got}
    if len(versions) > 1:
        log.info("the parts of a read of %s saw data versions %s; reading through the driver", path, sorted(versions))
        return None
    return versions.pop(), [table for _, table in got]


def _output():
    """A file for one of a child's streams: in memory (Linux), else -- no ``memfd_create``, or a
    sandbox that refuses it -- an unnamed temporary file."""
    try:
        return open(os.memfd_create("fleet-read", os.MFD_CLOEXEC), "w+b")
    except (AttributeError, OSError):
        return tempfile.TemporaryFile()


def _start(path: str | Path, request: dict, outputs: list, errors) -> subprocess.Popen:
    fds = [f.fileno() for f in outputs]
    child = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=errors, pass_fds=fds)
    with child.stdin:
        child.stdin.write(json.dumps({"path": str(path), "fds": fds, **request}).encode())
    return child


def _finish(path: str | Path, child: subprocess.Popen, outputs: list, errors):
    """The child's (version, table), or None with a warning that says why."""
    import pyarrow as pa

    code = child.wait(timeout=TIMEOUT_S)
    table = None
    if code == 0:
        try:
            table = _received(pa, [_mapped(pa, f) for f in outputs])
        except (pa.ArrowInvalid, OSError, ValueError) as exc:  # the child's streams are missing or torn
            table = exc
    errors.seek(0)
    message = errors.read().decode(errors="replace").strip()
    if code != 0 or isinstance(table, Exception):
        log.warning("reading %s in a child process failed (exit %s): %s; reading through the driver instead",
                    path, code, " ".join(message.split())[-500:] if message else table)
        return None
    return json.loads(table.schema.metadata[b"fleet_version"]), table.replace_schema_metadata(None)


def _mapped(pa, output):
    """The file's bytes as an Arrow buffer over a read-only map of it (None if the child left it
    empty): the columns read from it point into the map, which lives as long as they do."""
    size = os.fstat(output.fileno()).st_size
    if not size:
        return None
    return pa.py_buffer(mmap.mmap(output.fileno(), size, prot=mmap.PROT_READ))


def _received(pa, buffers):
    """The child's table from its one or two streams (``_child``), columns in the child's order."""
    if buffers[0] is None:
        raise pa.ArrowInvalid("the child wrote no rows")
    first = pa.ipc.open_stream(buffers[0]).read_all()
    meta = first.schema.metadata
    names = json.loads(meta[b"fleet_columns"])
    if len(names) == first.num_columns:
        return first
    if buffers[1] is None:
        raise pa.ArrowInvalid("the child wrote no text columns")
    second = pa.ipc.open_stream(buffers[1]).read_all()
    if second.num_rows != first.num_rows:
        raise pa.ArrowInvalid(f"the child's two streams hold {first.num_rows} and {second.num_rows} rows")
    columns = {name: first.column(name) for name in first.column_names}
    columns |= {name: second.column(name) for name in second.column_names}
    return pa.table([columns[name] for name in names], names=names).replace_schema_metadata(meta)


def _child() -> None:
    """Read the request on stdin, write the rows into the files it names (open descriptors: ``fds``),
    the data version in the first stream's schema metadata.

    ADBC's low-level API, not its DB-API module: that one imports pandas (a fifth of a second
    of each child's start).
    """
    import adbc_driver_manager as adbc
    import adbc_driver_sqlite
    import pyarrow as pa

    request = json.loads(sys.stdin.buffer.read())
    # mode=rw: never create a missing file; autocommit off: both reads share one transaction
    with adbc_driver_sqlite.connect(f"file:{quote(request['path'], safe='/')}?mode=rw") as database, \
            adbc.AdbcConnection(database) as connection:
        connection.set_options(**{"adbc.connection.autocommit": "false"})
        version = _query(connection, VERSION_SQL)
        version = version.column(0)[0].as_py() if version.num_rows else None
        table = _query(connection, request["sql"])
        connection.rollback()
    types = {name: pa.type_for_alias(alias) for name, alias in request.get("types", {}).items()}
    table = table.cast(pa.schema([(f.name, types.get(f.name, f.type)) for f in table.schema]))
    # Two streams, text columns in the second: a record batch arrives as one buffer, and the
    # parent keeps text columns as the Arrow arrays they are -- in a batch with the numeric
    # columns they would keep those bytes alive too, after the parent copied them into numpy
    # (~120 MB at 1M estimates). The first stream's metadata names every column in order.
    text = [f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    rest = [name for name in table.column_names if name not in text]
    parts = [table.select(rest), table.select(text)] if rest and text else [table]
    parts[0] = parts[0].replace_schema_metadata({"fleet_version": json.dumps(version),
                                                 "fleet_columns": json.dumps(table.column_names)})
    for part, fd in zip(parts, request["fds"]):
        with open(fd, "wb", closefd=False) as out, pa.ipc.new_stream(out, part.schema) as stream:
            stream.write_table(part)


def _query(connection, sql: str):
    import adbc_driver_manager as adbc
    import pyarrow as pa

    with adbc.AdbcStatement(connection) as statement:
        # one batch as large as the result: the driver types each column from its first batch
        statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1 << 30)})
        statement.set_sql_query(sql)
        stream, _ = statement.execute_query()
        return pa.RecordBatchReader.from_stream(stream).read_all()  # the Arrow C stream interface
