"""Big SQLite reads in a child process, straight into Arrow columns.

Reading a million estimates through Python's ``sqlite3`` builds 26 million Python
objects (about 9 s and 2 GB at 1M here); ADBC's SQLite driver reads the same rows into
Arrow columns in under 2 s. But ADBC links its own copy of SQLite, and two SQLite
libraries in one process break SQLite's POSIX locking: closing a file in one drops the
other's locks (sqlite.org/howtocorrupt.html, section 2.2). So the read runs in a child
process that loads only ADBC's SQLite (``_child``); it hands the
rows back as an Arrow IPC stream on its stdout. Two processes locking one file is how
SQLite is meant to be shared.

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
import subprocess
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)
# the child finds this package wherever the parent was started from, and says what failed in one line
_CHILD = f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from fleet.sqlite_reader import _child
try:
    sys.exit(_child())
except Exception as exc:
    sys.stderr.write(type(exc).__name__ + ": " + " ".join(str(exc).split()))
    sys.exit(1)
"""
VERSION_SQL = "SELECT version FROM store_state WHERE id = 1"
TIMEOUT_S = 600


def available() -> bool:
    """Is ADBC's SQLite driver installed (in this interpreter, which the child also runs)?"""
    return find_spec("adbc_driver_sqlite") is not None


def read(path: str | Path, sql: str):
    """``(data version or None, pyarrow.Table)`` of ``sql`` on the SQLite file ``path``, read in a child
    process in one transaction; None if the child could not read it (the reason is logged)."""
    import pyarrow as pa

    request = json.dumps({"path": str(path), "sql": sql}).encode()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=errors)
        try:
            child.stdin.write(request)
            child.stdin.close()
            table = pa.ipc.open_stream(child.stdout).read_all()
        except (pa.ArrowInvalid, OSError) as exc:  # the child died before or while writing its stream
            table = exc
        finally:
            child.stdout.close()
            code = child.wait(timeout=TIMEOUT_S)
        errors.seek(0)
        message = errors.read().decode(errors="replace").strip()
    if code != 0 or isinstance(table, Exception):
        log.warning("reading %s in a child process failed (exit %s): %s; reading through the driver instead",
                    path, code, " ".join(message.split())[-500:] if message else table)
        return None
    return json.loads(table.schema.metadata[b"fleet_version"]), table.replace_schema_metadata(None)


def _child() -> int:
    """Read the request on stdin, write the rows on stdout with the data version in the schema's metadata."""
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa

    request = json.loads(sys.stdin.buffer.read())
    # mode=rw: never create a missing file; autocommit off: both reads share one transaction
    with adbc.connect(f"file:{quote(request['path'], safe='/')}?mode=rw") as connection, connection.cursor() as cursor:
        cursor.execute(VERSION_SQL)
        version = (cursor.fetchone() or [None])[0]
        # one batch as large as the result: the driver types each column from its first batch
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1 << 30)})
        cursor.execute(request["sql"])
        table = cursor.fetch_arrow_table()
        connection.rollback()
    table = table.replace_schema_metadata({"fleet_version": json.dumps(version)})
    with pa.ipc.new_stream(sys.stdout.buffer, table.schema) as stream:
        stream.write_table(table)
    return 0

