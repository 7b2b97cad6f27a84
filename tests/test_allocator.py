"""The C allocator's settings (fleet.allocator): freed pages are reused, not faulted in again,
and by every thread.

Each case runs in a fresh interpreter: the thresholds are process-wide and set once.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Allocate and free eight arrays of 2.4-8 MB twenty times, as the combining rule does with its
# temporaries at 1M estimates, and count the page faults of the last nineteen rounds.
CHURN = """
import json, resource, sys
import numpy as np
from fleet import allocator
tuned = allocator.tune()
def round_():
    arrays = [np.ones(n) for n in (1_000_000, 700_000, 700_000, 300_000, 1_000_000, 700_000, 300_000, 300_000)]
    return sum(float(a[-1]) for a in arrays)
round_()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(19):
    round_()
print(json.dumps({"tuned": tuned, "again": allocator.tune(),
                  "faults": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 19}))
"""

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="the thresholds are glibc's")


def churn(script: str = CHURN, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MALLOC_") and k not in ("FLEET_MALLOC_TUNING", "ARROW_DEFAULT_MEMORY_POOL")}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=clean | env | {"PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@glibc
def test_tuned_thresholds_reuse_freed_pages_instead_of_faulting_them_in_again():
    tuned, default = churn(), churn(FLEET_MALLOC_TUNING="0")
    assert tuned["tuned"] and tuned["again"] and not default["tuned"]
    # 38 MB a round: glibc's defaults trim the heap and fault ~4,600 pages in again every round
    # (glibc 2.36); tuned, the freed pages are reused
    assert default["faults"] > 1_000
    assert tuned["faults"] < 50


# A worker thread allocates and frees 115 MB, then the main thread allocates the same: the
# process's peak grows by one of them if the two threads share a heap, by both if not.
THREADS = """
import json, threading
import numpy as np
from fleet import allocator
tuned = allocator.tune()
def peak_mb():  # this process's own high-water mark (ru_maxrss starts from the parent's)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
def churn():
    arrays = [np.ones(n) for n in (1_000_000, 700_000, 700_000, 300_000, 1_000_000, 700_000, 300_000, 300_000) * 3]
    return sum(float(a[-1]) for a in arrays)
before = peak_mb()
worker = threading.Thread(target=churn)
worker.start()
worker.join()
churn()
print(json.dumps({"tuned": tuned, "grew_mb": peak_mb() - before}))
"""


@glibc
def test_threads_share_one_heap_so_one_thread_reuses_what_another_freed():
    shared, separate = churn(THREADS), churn(THREADS, MALLOC_ARENA_MAX="8")
    assert shared["tuned"] and separate["tuned"]
    assert shared["grew_mb"] < 160 < 200 < separate["grew_mb"]


@glibc
def test_the_user_s_own_malloc_setting_wins_over_fleet_s():
    # the user's 16 MB trim threshold: the heap is trimmed again, and the pages fault back in
    user = churn(MALLOC_TRIM_THRESHOLD_=str(16 * 2**20))
    assert user["tuned"] and user["faults"] > 1_000  # Fleet's other settings still applied


@glibc
def test_nothing_is_set_when_the_user_set_everything():
    every = {"MALLOC_TRIM_THRESHOLD_": str(2**27), "MALLOC_MMAP_THRESHOLD_": str(2**25), "MALLOC_ARENA_MAX": "1",
             "ARROW_DEFAULT_MEMORY_POOL": "mimalloc"}
    assert not churn(**every)["tuned"]


# Free 100 MB of 2.4-8 MB arrays (kept for reuse under the tuned thresholds), then release them.
RELEASE = """
import json
import numpy as np
from fleet import allocator
tuned = allocator.tune()
def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
arrays = [np.ones(n) for n in (1_000_000, 700_000, 700_000, 300_000, 1_000_000, 700_000, 300_000, 300_000) * 3]
arrays.clear()
kept = rss_mb()
allocator.release()
print(json.dumps({"tuned": tuned, "kept": kept, "released": rss_mb()}))
"""


@glibc
def test_release_gives_kept_pages_back():
    tuned = churn(RELEASE)
    assert tuned["tuned"] and tuned["kept"] - tuned["released"] > 80  # ~115 MB were kept free
    untuned = churn(RELEASE, FLEET_MALLOC_TUNING="0")  # nothing kept, and release() leaves glibc alone
    assert not untuned["tuned"] and abs(untuned["kept"] - untuned["released"]) < 20


# A worker thread builds and drops ~130 MB of Arrow strings, then stays alive (as the frame
# cache's writer and Streamlit's threads do) while the main thread asks for the pages back.
ARROW = """
import json, sys, threading
if sys.argv[1] == "imported":  # Arrow already imported and allocating before tune(): switched then
    import pyarrow as pa
    pa.array(["x"] * 10)
from fleet import allocator
tuned = allocator.tune()
import numpy as np
import pyarrow as pa
def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
def churn(n):
    columns = [pa.array(np.arange(k * 10**6, (k + 1) * 10**6)).cast(pa.string()) for k in range(n)]
    return sum(len(c) for c in columns)
churn(1)  # what the first cast loads stays: not part of the measure
before = rss_mb()
done, stop = threading.Event(), threading.Event()
worker = threading.Thread(target=lambda: (churn(12), done.set(), stop.wait()))
worker.start()
done.wait()
allocator.release()
grew = rss_mb() - before
stop.set()
worker.join()
print(json.dumps({"tuned": tuned, "pool": pa.default_memory_pool().backend_name, "grew": grew}))
"""


@glibc
@pytest.mark.parametrize("when", ["not yet imported", "imported"])
def test_arrow_buffers_freed_in_another_thread_are_given_back(when):
    tuned = churn(ARROW.replace("sys.argv[1]", repr(when)))
    assert tuned["tuned"] and tuned["pool"] == "system"
    assert tuned["grew"] < 25  # ~130 MB of strings were freed in the worker, and given back


@glibc
def test_the_user_s_own_arrow_pool_wins():
    assert churn(ARROW.replace("sys.argv[1]", "''"), ARROW_DEFAULT_MEMORY_POOL="mimalloc")["pool"] == "mimalloc"
    assert churn(ARROW.replace("sys.argv[1]", "''"), FLEET_MALLOC_TUNING="0")["pool"] != "system"
