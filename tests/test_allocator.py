"""The C allocator's thresholds (fleet.allocator): freed pages are reused, not faulted in again.

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


def churn(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "FLEET_MALLOC_TUNING"}
    out = subprocess.run([sys.executable, "-c", CHURN], cwd=ROOT, env=clean | env | {"PYTHONPATH": str(ROOT)},
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


@glibc
@pytest.mark.parametrize("name", ["MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"])
def test_the_user_s_own_malloc_settings_win(name):
    assert not churn(**{name: str(64 * 2**20)})["tuned"]
