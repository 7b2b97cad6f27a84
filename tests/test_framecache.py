"""The on-disk frame cache: a frame comes back as it was loaded, a new data version misses,
a torn file is read again from the store, and the folder stays bounded."""

from __future__ import annotations

import pandas as pd
import pytest

from fleet import framecache, queries
from fleet.db import data_version, read_session


def _load(engine):
    with read_session(engine) as session:
        return queries.estimates_frame(session)


def _key(engine):
    with read_session(engine) as session:
        return ("estimates", str(engine.url), *data_version(session), None)


def test_a_cached_estimates_frame_equals_the_one_read_from_the_store(seeded_engine, tmp_path):
    fresh = _load(seeded_engine)
    calls = []
    first = framecache.cached_frame(tmp_path, _key(seeded_engine), lambda: calls.append(1) or _load(seeded_engine))
    again = framecache.cached_frame(tmp_path, _key(seeded_engine), lambda: calls.append(1) or _load(seeded_engine))
    assert calls == [1]  # the second read came from the file
    assert len(fresh) > 100
    pd.testing.assert_frame_equal(again, fresh, check_dtype=False)
    pd.testing.assert_frame_equal(first, fresh)


def test_a_write_changes_the_key_so_the_old_file_is_never_served(seeded_engine, tmp_path):
    from fleet.db import write_session

    before = _key(seeded_engine)
    framecache.cached_frame(tmp_path, before, lambda: _load(seeded_engine))
    with write_session(seeded_engine):
        pass  # even an empty write moves the version and the high-water mark
    assert _key(seeded_engine) != before
    assert not framecache.path_for(tmp_path, _key(seeded_engine)).exists()


def test_a_torn_file_is_dropped_and_read_again(tmp_path, caplog):
    key = ("estimates", "sqlite:///x.db", 3, None, None)
    framecache.path_for(tmp_path, key).write_bytes(b"not parquet")
    frame = framecache.cached_frame(tmp_path, key, lambda: pd.DataFrame({"id": [1, 2]}))
    assert frame["id"].tolist() == [1, 2]
    assert "unreadable" in caplog.text
    assert pd.read_parquet(framecache.path_for(tmp_path, key))["id"].tolist() == [1, 2]


@pytest.mark.parametrize("off", ["", "off", None])
def test_no_folder_means_no_disk_cache(off, tmp_path):
    assert framecache.cached_frame(off, ("k",), lambda: pd.DataFrame({"a": [1]}))["a"].tolist() == [1]


def test_the_folder_keeps_at_most_keep_files(tmp_path):
    for version in range(framecache.KEEP + 3):
        framecache.cached_frame(tmp_path, ("estimates", "u", version), lambda: pd.DataFrame({"a": [version]}))
    assert len(list(tmp_path.glob("frame-*.parquet"))) == framecache.KEEP
