"""The C allocator's settings for a process that works on million-row frames.

The combining rule allocates and frees a few dozen arrays of 1-8 MB per call. With
glibc's defaults the heap is trimmed back to the system whenever 16 MB lie free at its
top, and the next call faults every page in again: ~24,000 page faults, 40 % of a
fleet state at 1M estimates (``bench/NOTES.md``). Keeping up to ``TRIM_BYTES`` free at
the top of the heap (and serving blocks below ``MMAP_BYTES`` from it, the most glibc's
own sliding threshold reaches) reuses those pages instead; 128 MB is the smallest that
removes the faults at 1M (64 MB leaves half of them).

glibc also gives each thread that meets contention an arena of its own, and memory
freed in one arena is not reused by another. The app's work moves between threads (a
session's script thread, the frame cache's writer, Streamlit's own), so each kept its
own high-water mark: ``ARENAS`` = 1 lets them share one heap. At 1M estimates that took
the app's peak RSS computing every page from 1.70-1.85 GB to 1.53 GB and the cold first
render of the overview from ~2.9 s to ~2.45 s (``python -m bench --only pages --only rss``).
The arena limit only binds fully from a process's start: threads that ran before it
(Streamlit's, BLAS's) keep arenas of their own, which later threads then share. So
``make run`` starts the app with ``MALLOC_ARENA_MAX=1`` in the environment (and the
benchmarks start the app processes they measure that way); ``tune()`` sets it too, for
the threads still to come.

Arrow's buffers (text columns, Parquet reads) go through the same heap: ``tune()`` picks
Arrow's ``system`` memory pool instead of its default (mimalloc), so that the settings
above and ``release()`` govern them too. With mimalloc the app computing every page at
1M estimates stayed 100-140 MB higher between pages, even after asking Arrow's pool to
release what it kept; with the system pool its peak went from ~1.10 GB to ~0.97 GB
(``bench/NOTES.md``).

Applied by the app, the CLI and the benchmarks (which stand for them) at start. A
setting in the environment (``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_ARENA_MAX``, ``ARROW_DEFAULT_MEMORY_POOL``) wins over its counterpart here, and
``FLEET_MALLOC_TUNING=0`` leaves every default. Only glibc has these knobs; elsewhere
nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import sys

log = logging.getLogger(__name__)

TRIM_BYTES = 128 * 2**20
MMAP_BYTES = 32 * 2**20
ARENAS = 1
# (glibc's malloc.h parameter number, value, the environment variable that sets it), the mmap
# threshold first: setting either threshold stops glibc's own sliding ones
_SETTINGS = ((-3, MMAP_BYTES, "MALLOC_MMAP_THRESHOLD_"), (-1, TRIM_BYTES, "MALLOC_TRIM_THRESHOLD_"),
             (-8, ARENAS, "MALLOC_ARENA_MAX"))
_done: bool | None = None


def tune() -> bool:
    """Apply the settings once per process; True if any is in force (set now or before)."""
    global _done
    if _done is None:
        _done = _apply()
    return _done


@functools.cache
def _libc() -> ctypes.CDLL | None:  # find_library runs ldconfig: once
    name = ctypes.util.find_library("c")
    return None if name is None else ctypes.CDLL(name)


def _apply() -> bool:
    if sys.platform != "linux" or os.environ.get("FLEET_MALLOC_TUNING", "1") == "0":
        return False
    libc = _libc()
    if libc is None or not hasattr(libc, "gnu_get_libc_version"):
        return False  # not glibc: musl's mallopt does nothing
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    applied = False
    for parameter, value, environment in _SETTINGS:
        if environment in os.environ:
            continue  # the user's own setting
        if mallopt(parameter, value) != 1:  # glibc's mallopt returns 1 on success
            log.warning("mallopt refused %s = %s; running with the C library's default", environment, value)
            continue
        applied = True
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"  # read by Arrow when it first allocates
        arrow = sys.modules.get("pyarrow")
        if arrow is not None:  # already imported (and perhaps allocating): switch from now on
            arrow.set_memory_pool(arrow.system_memory_pool())
        applied = True
    return applied


def release() -> None:
    """Give the heap's free pages back to the system now (glibc's ``malloc_trim``, and Arrow's
    pool if it is another): when a computation at scale has ended (``fleet.framecache``, on a
    miss) and before work done behind the pages -- the frame cache's writer building a
    deferred frame -- so that what was kept for reuse does not add to the next one's peak."""
    if _done:
        _libc().malloc_trim(0)
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:  # a pool of Arrow's own (the user's choice) keeps freed buffers' pages too
        pool = arrow.default_memory_pool()
        if pool.backend_name != "system":  # the system pool's release is the malloc_trim above again
            pool.release_unused()
