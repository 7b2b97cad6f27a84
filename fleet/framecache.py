"""Frames read from the store, kept on disk as Parquet and keyed on the data version.

Reading a million estimates through the database driver builds a million Python rows
(tens of seconds); reading the same frame back from Parquet takes a fraction of a second.
So the app keeps each big frame it loads in ``Settings.frame_cache_dir``, named by a hash
of (what was read, database URL, data version, high-water mark, known_at). Every write
bumps the version and the high-water mark (``fleet.db.write_session``), so a cached file
can never be served for data it does not hold: a changed store simply misses. A server
restart, or a second server process, starts from the file instead of the database.

The combined fleet state for a view's filters is kept the same way (``cached_frames``):
a materialised current state, so a new server process draws the overview from a few
small files instead of reading and combining every estimate.

At most ``KEEP`` files are kept (least recently used go first). An unreadable file is
logged, deleted and read again from the database. No streamlit here.

A small pointer file (``remember`` / ``recall``) names the newest frame of a kind -- the
estimates as the store knows them now -- so that after a write the new frame can be built
from the previous one and the few rows written since (``fleet.materialised``).

Files are written behind the caller's back: one writer thread per process takes them in
order (a pointer after the file it names), so a page is drawn without waiting for
Parquet encoding (about a second for a million estimates and a fleet state). Until a file
is on disk, this process reads the frame it is writing from memory; ``flush()`` waits for
every pending write (``python -m fleet warm`` does, and the interpreter does at exit).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fleet import allocator

log = logging.getLogger(__name__)
FORMAT = 5  # bump when a cached frame's columns or dtypes change
KEEP = 64  # an estimates frame is one file, a fleet state four, a page's tables one each and a manifest


def path_for(directory: str | Path, key: tuple) -> Path:
    digest = hashlib.sha256(repr((FORMAT, *key)).encode()).hexdigest()[:32]
    return Path(directory) / f"frame-{digest}.parquet"


# One writer thread: files are written in the order they were asked for (concurrent.futures
# joins it at interpreter exit, so a process never leaves a write half done).
_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="framecache-writer")
_pending: dict[Path, pd.DataFrame] = {}  # frames handed to the writer and not yet on disk
_lock = threading.Lock()


def flush() -> None:
    """Wait until every frame and pointer handed to the writer so far is on disk."""
    _writer.submit(lambda: None).result()


class Later:
    """A frame built when first asked for -- by a reader, or by the writer thread when its turn
    to be written comes -- once, whoever asks first (``cached_frames``' deferred parts).

    Once its file is on disk it lets go of the frame and reads the file each time it is asked:
    a deferred part is big (a fleet state's contributions at a million estimates are ~160 MB),
    read by a few cold page views, and would otherwise stay resident for as long as the state
    it belongs to is cached. A caller that reads it several times keeps the frame it got
    (``rereads`` tells ``fleet.analytics.combine.OnFirstRead`` not to keep it for good). A file
    that has gone or cannot be read is built again with ``rebuild`` and then kept in memory.
    """

    rereads = True

    def __init__(self, build: Callable[[], pd.DataFrame] | None, path: Path | None = None,
                 rebuild: Callable[[], pd.DataFrame] | None = None) -> None:
        self._build, self._rebuild, self._path = build, rebuild, path
        self._frame: pd.DataFrame | None = None
        self._lock = threading.Lock()

    def __call__(self) -> pd.DataFrame:
        with self._lock:
            if self._frame is None and self._build is None:  # on disk
                frame = _read_file(self._path)
                if frame is not None:
                    return frame
                self._build, self._rebuild = self._rebuild, None  # gone: build it again, keep it
            if self._frame is None:
                self._frame = self._build().reset_index(drop=True)
                self._build = None  # let go of what it was built from
            return self._frame

    def written(self, path: Path) -> None:
        """Its file is on disk: read that from now on instead of holding the frame."""
        with self._lock:
            self._frame, self._path = None, path


def _read(path: Path) -> pd.DataFrame | None:
    with _lock:
        pending = _pending.get(path)
    if pending is not None:
        return pending() if isinstance(pending, Later) else pending
    return _read_file(path)


def _read_file(path: Path) -> pd.DataFrame | None:
    try:
        frame = pd.read_parquet(path)
    except FileNotFoundError:
        return None
    except Exception:  # a torn or foreign file: say so, drop it, read the store again
        log.warning("frame cache file %s is unreadable; reading from the database", path, exc_info=True)
        path.unlink(missing_ok=True)
        return None
    try:
        os.utime(path)  # recently used: kept longest
    except FileNotFoundError:
        pass  # another process trimmed the folder meanwhile: the frame in hand is still whole
    return frame


def _write(path: Path, frame: pd.DataFrame | Later) -> None:
    """Hand ``frame`` (or a ``Later`` one) to the writer thread; reads in this process see it meanwhile."""
    with _lock:
        _pending[path] = frame
    _writer.submit(_write_logged, path, frame)


def _write_logged(path: Path, frame: pd.DataFrame | Later) -> None:
    pending = frame
    try:
        if isinstance(frame, Later):
            allocator.release()  # a deferred frame is big: build it on returned pages, not on top of kept ones
            frame = frame()
        _write_now(path, frame)
        if isinstance(pending, Later):
            pending.written(path)
    except Exception:  # the page already has its frame: a full disk costs the next reader a recompute
        log.warning("could not keep frame %s on disk", path, exc_info=True)
    finally:
        with _lock:
            if _pending.get(path) is pending:
                del _pending[path]


def _write_now(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    # what DataFrame.to_parquet does, on this thread alone: pyarrow would convert the columns
    # on a pool of its own, which refuses work once the interpreter is exiting -- and exit is
    # when the writer finishes what is pending (and the page's own threads need the cores)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False, nthreads=1), tmp)
    tmp.replace(path)  # atomic: a reader sees the old file or the whole new one
    for stale in _by_use(path.parent)[KEEP:]:
        stale.unlink(missing_ok=True)


def _by_use(directory: Path) -> list[Path]:
    """The folder's frame files, most recently used first (another server process may be
    trimming the same folder: a file gone between listing and stat is simply left out)."""
    used = []
    for candidate in directory.glob("frame-*.parquet"):
        try:
            used.append((candidate.stat().st_mtime, candidate))
        except FileNotFoundError:
            continue
    return [p for _, p in sorted(used, key=lambda pair: pair[0], reverse=True)]


def kept(directory: str | Path | None, key: tuple) -> bool:
    """Is the frame for ``key`` on disk, or on its way there (``cached_frame`` would not load it)?"""
    if not directory or str(directory) == "off":
        return False
    path = path_for(directory, key)
    return path in _pending or path.exists()


def cached_frame(directory: str | Path | None, key: tuple, load: Callable[[], pd.DataFrame], *,
                 release: bool = True) -> pd.DataFrame:
    """``load()``'s frame, from the file for ``key`` when there is one (``directory`` empty or
    ``off``: no disk cache). ``key`` must name the data version it was read at.

    After ``load()`` the heap's free pages go back to the system (``allocator.release``),
    unless ``release`` is False: for a frame whose reader's freed pages the next step
    would only fault in again."""
    if not directory or str(directory) == "off":
        return load()
    path = path_for(directory, key)
    frame = _read(path)
    if frame is None:
        frame = load()
        if release:  # a computation at scale just ended: what it freed goes back, not kept
            allocator.release()
        _write(path, frame.reset_index(drop=True))
    return frame


def cached_frames(directory: str | Path | None, key: tuple, names: tuple[str, ...],
                  load: Callable[[], dict[str, pd.DataFrame | Callable[[], pd.DataFrame]]],
                  deferred: tuple[str, ...] = ()) -> dict[str, pd.DataFrame | Later]:
    """Several frames computed together (e.g. a fleet state's parts), each in its own file.

    All come from disk or none do: if any part is missing or unreadable, ``load()`` runs and
    every part is written again. Frames come back with a fresh 0..n-1 index either way.

    ``load()`` may give a part as a function that builds it: that part comes back as a
    ``Later`` (call it for the frame), built when first asked for or by the writer thread,
    so a page that does not need it never waits for it. The parts named in ``deferred``
    come back from disk as a ``Later`` too, which reads the file when called.
    """
    def fresh(name: str, part) -> pd.DataFrame | Later:
        if callable(part):
            return Later(part, rebuild=functools.partial(_rebuilt, load, name))
        return part.reset_index(drop=True)

    if not directory or str(directory) == "off":
        return {name: fresh(name, part) for name, part in load().items()}
    paths = {name: path_for(directory, (*key, name)) for name in names}
    found = {name: _on_disk(path, functools.partial(_rebuilt, load, name)) if name in deferred else _read(path)
             for name, path in paths.items()}
    if all(frame is not None for frame in found.values()):
        return found
    frames = {name: fresh(name, part) for name, part in load().items()}
    allocator.release()
    for name, path in paths.items():
        _write(path, frames[name])
    return frames


def _on_disk(path: Path, rebuild: Callable[[], pd.DataFrame]) -> pd.DataFrame | Later | None:
    """A deferred part kept on disk, not read yet; the one being written if it is pending."""
    with _lock:
        pending = _pending.get(path)
    if pending is not None:
        return pending
    return Later(None, path, rebuild) if path.exists() else None


def _rebuilt(load: Callable[[], dict], name: str) -> pd.DataFrame:
    part = load()[name]
    return part() if callable(part) else part


def cached_frame_set(directory: str | Path | None, key: tuple,
                     load: Callable[[], dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Like ``cached_frames`` for a set of frames whose names are only known once computed
    (a page's tables): a small manifest file lists them."""
    if not directory or str(directory) == "off":
        return {name: frame.reset_index(drop=True) for name, frame in load().items()}
    manifest = _read(path_for(directory, (*key, "__names__")))
    if manifest is not None:
        names = tuple(manifest["name"])
        found = {name: _read(path_for(directory, (*key, name))) for name in names}
        if all(frame is not None for frame in found.values()):
            return found
    frames = {name: frame.reset_index(drop=True) for name, frame in load().items()}
    allocator.release()
    for name, frame in frames.items():
        _write(path_for(directory, (*key, name)), frame)
    _write(path_for(directory, (*key, "__names__")), pd.DataFrame({"name": list(frames)}, dtype=object))
    return frames


def _pointer(directory: str | Path, name: tuple) -> Path:
    digest = hashlib.sha256(repr((FORMAT, *name)).encode()).hexdigest()[:32]
    return Path(directory) / f"latest-{digest}.json"


def remember(directory: str | Path | None, name: tuple, key: tuple, order: int, info: dict) -> None:
    """Note ``key``'s file as the newest of ``name`` with ``info`` (JSON values), unless the
    pointer already names one of a later ``order`` (another process may have written it)."""
    if not directory or str(directory) == "off":
        return
    _writer.submit(_remember_logged, Path(directory), name, key, order, info)  # after the file it names


def _remember_logged(directory: Path, name: tuple, key: tuple, order: int, info: dict) -> None:
    try:
        _remember_now(directory, name, key, order, info)
    except Exception:  # the next write reads its frame whole instead of refreshing this one
        log.warning("could not note the newest frame of %r in %s", name, directory, exc_info=True)


def _remember_now(directory: Path, name: tuple, key: tuple, order: int, info: dict) -> None:
    pointer = _pointer(directory, name)
    held = _pointed(pointer)
    if held is not None and held.get("order", -1) >= order:
        return
    tmp = pointer.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"order": order, "file": path_for(directory, key).name, "info": info}))
    tmp.replace(pointer)


def _pointed(pointer: Path) -> dict | None:
    try:
        held = json.loads(pointer.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        log.warning("frame cache pointer %s is unreadable; ignoring it", pointer, exc_info=True)
        return None
    return held if isinstance(held, dict) and {"order", "file", "info"} <= held.keys() else None


def recall(directory: str | Path | None, name: tuple) -> tuple[int, dict, pd.DataFrame] | None:
    """The newest frame noted for ``name``: (order, info, frame), or None if there is none on disk."""
    if not directory or str(directory) == "off":
        return None
    flush()  # a pointer this process handed to the writer is read as written
    held = _pointed(_pointer(directory, name))
    if held is None:
        return None
    frame = _read(Path(directory) / Path(held["file"]).name)
    return None if frame is None else (int(held["order"]), held["info"], frame)
