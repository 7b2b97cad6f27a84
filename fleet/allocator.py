"""The C allocator's thresholds for a process that works on million-row frames.

The combining rule allocates and frees a few dozen arrays of 1-8 MB per call. With
glibc's defaults the heap is trimmed back to the system whenever 16 MB lie free at its
top, and the next call faults every page in again: ~24,000 page faults, 40 % of a
fleet state at 1M estimates (``bench/NOTES.md``). Keeping up to ``TRIM_BYTES`` free at
the top of each heap (and serving blocks below ``MMAP_BYTES`` from the heap, the most
glibc's own sliding threshold reaches) reuses those pages instead. 128 MB is the
smallest that removes the faults at 1M (64 MB leaves half of them). The cost is memory
kept: up to that much free per heap stays resident; the app's peak RSS computing every
page at 1M moved within its run-to-run noise (1.70-1.85 GB tuned, 1.70-1.74 GB not).

Applied by the app, the CLI and the benchmarks (which stand for the app) at start; a
setting in the environment (``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_``) or
``FLEET_MALLOC_TUNING=0`` wins. Only glibc has these knobs; elsewhere nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

log = logging.getLogger(__name__)

TRIM_BYTES = 128 * 2**20
MMAP_BYTES = 32 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_ENVIRONMENT = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")
_done: bool | None = None


def tune() -> bool:
    """Set the thresholds once per process; True if they are in force (set now or before)."""
    global _done
    if _done is None:
        _done = _apply()
    return _done


def _apply() -> bool:
    if sys.platform != "linux" or os.environ.get("FLEET_MALLOC_TUNING", "1") == "0":
        return False
    if any(name in os.environ for name in _ENVIRONMENT):
        return False  # the user's own settings
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name)
    if not hasattr(libc, "gnu_get_libc_version"):
        return False  # not glibc: musl's mallopt does nothing
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # glibc's mallopt returns 1 on success; order matters: setting either stops glibc's own sliding thresholds
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_BYTES) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES) == 1
    if not ok:
        log.warning("mallopt refused Fleet's allocator thresholds; running with the C library's defaults")
    return ok
