"""The on-disk frame cache: a frame comes back as it was loaded, a new data version misses,
a torn file is read again from the store, and the folder stays bounded."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import weakref

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
    framecache.flush()  # on disk: the second read is a Parquet round trip
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
    framecache.flush()
    assert pd.read_parquet(framecache.path_for(tmp_path, key))["id"].tolist() == [1, 2]


@pytest.mark.parametrize("off", ["", "off", None])
def test_no_folder_means_no_disk_cache(off, tmp_path):
    assert framecache.cached_frame(off, ("k",), lambda: pd.DataFrame({"a": [1]}))["a"].tolist() == [1]


def test_the_folder_keeps_at_most_keep_files(tmp_path):
    for version in range(framecache.KEEP + 3):
        framecache.cached_frame(tmp_path, ("estimates", "u", version), lambda: pd.DataFrame({"a": [version]}))
    framecache.flush()
    assert len(list(tmp_path.glob("frame-*.parquet"))) == framecache.KEEP


# --- a materialised fleet state: several frames kept together ---------------------------------------

def _state_parts(engine):
    from datetime import date

    from fleet.views import SessionStore
    from fleet.views.base import compute_fleet
    from fleet.view_state import Filters

    state = compute_fleet(SessionStore(engine), Filters(as_of=date(2025, 6, 30)))
    return {"by_chip": state.by_chip, "totals": state.totals, "contributions": state.contributions,
            "meta": pd.DataFrame({"excluded_unknown_spec": [state.excluded_unknown_spec]})}


PARTS = ("by_chip", "totals", "contributions", "meta")


def _ns(frame: pd.DataFrame) -> pd.DataFrame:
    dates = [c for c in frame if frame[c].dtype.kind == "M"]
    return frame.astype({c: "datetime64[ns]" for c in dates})


def test_a_cached_fleet_state_comes_back_as_computed(seeded_engine, tmp_path):
    key = ("fleet", *_key(seeded_engine)[1:])
    calls = []
    first = framecache.cached_frames(tmp_path, key, PARTS, lambda: calls.append(1) or _state_parts(seeded_engine))
    framecache.flush()
    again = framecache.cached_frames(tmp_path, key, PARTS, lambda: calls.append(1) or _state_parts(seeded_engine))
    assert calls == [1]
    assert len(first["totals"]) > 100 and len(first["contributions"]) > 100
    for name in PARTS:
        pd.testing.assert_frame_equal(_ns(again[name]), _ns(first[name]), check_dtype=False)
        # the kinds of dtype survive (Parquet has no seconds unit: datetime64[s] comes back as [ms])
        assert [again[name][c].dtype.kind for c in again[name]] == [first[name][c].dtype.kind for c in first[name]]


def test_a_missing_part_recomputes_every_part(tmp_path):
    key = ("fleet", "sqlite:///x.db", 1, None)
    version = iter(range(10))

    def load():
        n = next(version)
        return {"a": pd.DataFrame({"v": [n]}), "b": pd.DataFrame({"v": [n, n]})}

    assert framecache.cached_frames(tmp_path, key, ("a", "b"), load)["a"]["v"].tolist() == [0]
    framecache.flush()
    framecache.path_for(tmp_path, (*key, "b")).unlink()
    again = framecache.cached_frames(tmp_path, key, ("a", "b"), load)
    assert again["a"]["v"].tolist() == [1] and again["b"]["v"].tolist() == [1, 1]  # never half old, half new
    assert framecache.cached_frames(tmp_path, key, ("a", "b"), load)["b"]["v"].tolist() == [1, 1]


@pytest.mark.parametrize("folder", ["disk", "off"])
def test_a_deferred_part_is_built_once_when_read_or_when_written(tmp_path, folder):
    """A part given as a function is not built for a page that does not read it; it is built once,
    by whichever comes first -- a reader or the writer thread -- and lands on disk like the others."""
    directory = tmp_path if folder == "disk" else "off"
    key = ("fleet", "sqlite:///x.db", 3, None)
    built = []

    def wide():
        built.append(1)
        return pd.DataFrame({"w": ["x", "y", "z"]}, index=[7, 8, 9])

    parts = framecache.cached_frames(directory, key, ("a", "wide"),
                                     lambda: {"a": pd.DataFrame({"v": [1]}), "wide": wide})
    assert isinstance(parts["wide"], framecache.Later) and parts["a"]["v"].tolist() == [1]
    if folder == "off":
        assert built == []  # no writer: built only when read
    framecache.flush()
    assert built == ([1] if folder == "disk" else [])
    frame = parts["wide"]()
    assert frame["w"].tolist() == ["x", "y", "z"] and frame.index.tolist() == [0, 1, 2]
    # on disk, it is read from its file each time (not held); with no folder, it is kept
    assert (parts["wide"]() is frame) == (folder == "off") and built == [1]
    pd.testing.assert_frame_equal(parts["wide"](), frame)
    if folder == "disk":
        again = framecache.cached_frames(tmp_path, key, ("a", "wide"), lambda: pytest.fail("all parts are on disk"))
        pd.testing.assert_frame_equal(again["wide"], frame)


def test_a_deferred_part_lets_go_of_its_frame_once_it_is_on_disk(tmp_path):
    """A fleet state's contributions are big and read by few pages: once written, the cached
    state must not keep them resident."""
    key = ("fleet", "sqlite:///x.db", 5, None)
    kept = []

    def wide():
        frame = pd.DataFrame({"w": range(1000)})
        kept.append(weakref.ref(frame))
        return frame

    parts = framecache.cached_frames(tmp_path, key, ("wide",), lambda: {"wide": wide})
    framecache.flush()
    gc.collect()
    assert len(kept) == 1 and kept[0]() is None  # built by the writer, written, let go
    assert parts["wide"]()["w"].tolist() == list(range(1000)) and len(kept) == 1  # read back, not rebuilt


@pytest.mark.parametrize("damage", ["deleted", "torn"])
@pytest.mark.parametrize("when", ["written by this process", "found on disk"])
def test_a_deferred_part_whose_file_is_gone_is_built_again(tmp_path, damage, when, caplog):
    key = ("fleet", "sqlite:///x.db", 6, None)
    builds = iter(range(10))

    def load():
        n = next(builds)
        return {"a": pd.DataFrame({"v": [n]}), "wide": lambda: pd.DataFrame({"w": [n, n]})}

    parts = framecache.cached_frames(tmp_path, key, ("a", "wide"), load, deferred=("wide",))
    framecache.flush()
    if when == "found on disk":
        parts = framecache.cached_frames(tmp_path, key, ("a", "wide"), load, deferred=("wide",))
        assert isinstance(parts["wide"], framecache.Later)  # not read yet
    path = framecache.path_for(tmp_path, (*key, "wide"))
    if damage == "deleted":
        path.unlink()
    else:
        path.write_bytes(b"PAR1 torn")
    rebuilt = parts["wide"]()
    assert rebuilt["w"].tolist() == [1, 1]  # load() ran again for it
    assert parts["wide"]() is rebuilt  # and it is kept from then on, not built at every read
    assert (damage == "torn") == ("unreadable" in caplog.text)


def test_a_deferred_part_found_on_disk_is_not_read_until_asked(tmp_path):
    key = ("fleet", "sqlite:///x.db", 7, None)
    load = lambda: {"a": pd.DataFrame({"v": [1]}), "wide": lambda: pd.DataFrame({"w": [1, 2]})}  # noqa: E731
    framecache.cached_frames(tmp_path, key, ("a", "wide"), load, deferred=("wide",))
    framecache.flush()
    path = framecache.path_for(tmp_path, (*key, "wide"))
    frame = pd.read_parquet(path)
    pd.DataFrame({"w": [9]}).to_parquet(path)  # changed behind its back: what is read is the file when asked
    parts = framecache.cached_frames(tmp_path, key, ("a", "wide"), lambda: pytest.fail("all parts are on disk"),
                                     deferred=("wide",))
    assert parts["a"]["v"].tolist() == [1] and frame["w"].tolist() == [1, 2]
    assert parts["wide"]()["w"].tolist() == [9]


def test_a_deferred_part_being_written_is_read_from_memory(tmp_path):
    key = ("fleet", "sqlite:///x.db", 4, None)
    gate, built = threading.Event(), []
    framecache._writer.submit(gate.wait)  # hold the writer: the part is still pending below
    parts = framecache.cached_frames(tmp_path, key, ("wide",),
                                     lambda: {"wide": lambda: built.append(1) or pd.DataFrame({"w": [1, 2]})})
    again = framecache.cached_frames(tmp_path, key, ("wide",), lambda: pytest.fail("pending parts are served"))
    assert again["wide"]["w"].tolist() == [1, 2] and built == [1]  # built by this reader, once
    gate.set()
    framecache.flush()
    assert built == [1] and parts["wide"]()["w"].tolist() == [1, 2]
    assert pd.read_parquet(framecache.path_for(tmp_path, (*key, "wide")))["w"].tolist() == [1, 2]


def test_no_folder_means_the_parts_are_computed_with_a_fresh_index(tmp_path):
    frames = framecache.cached_frames("off", ("k",), ("a",), lambda: {"a": pd.DataFrame({"v": [1, 2]}, index=[5, 9])})
    assert frames["a"].index.tolist() == [0, 1]


def test_a_set_of_frames_named_when_computed_comes_back_whole(tmp_path):
    calls = []

    def load():
        calls.append(1)
        return {"kpis": pd.DataFrame({"v": [1.5]}), "board": pd.DataFrame({"name": ["a", "b"]}, index=[3, 4])}

    first = framecache.cached_frame_set(tmp_path, ("view", "u", 1), load)
    framecache.flush()
    again = framecache.cached_frame_set(tmp_path, ("view", "u", 1), load)
    assert calls == [1] and list(again) == ["kpis", "board"]
    pd.testing.assert_frame_equal(again["board"], first["board"])
    assert first["board"].index.tolist() == [0, 1]
    framecache.flush()
    framecache.path_for(tmp_path, ("view", "u", 1, "board")).unlink()
    framecache.cached_frame_set(tmp_path, ("view", "u", 1), load)
    assert calls == [1, 1]  # a missing table means the whole set is computed again


@pytest.mark.parametrize("page_id", ["overview", "rich-poor", "chips", "countries", "organisation", "researchers"])
def test_every_page_s_tables_come_back_from_disk_as_built(seeded_engine, tmp_path, page_id):
    from fleet import materialised
    from fleet.views import SessionStore, build_view, load_all

    load_all()
    version = _key(seeded_engine)[1:4]
    built = materialised.view(tmp_path, version, page_id, {}, lambda: build_view(SessionStore(seeded_engine), page_id, {}))
    framecache.flush()
    stored = materialised.view(tmp_path, version, page_id, {}, lambda: pytest.fail("should come from disk"))
    assert list(stored) == list(built) and all(len(stored[n]) == len(built[n]) for n in built)
    # what a download writes and a snapshot hashes (a date column's NaT comes back as None: both blank)
    from fleet.snapshots import content_hash

    assert content_hash(stored) == content_hash(built)


def test_a_frame_being_written_is_read_from_memory_and_lands_whole(tmp_path):
    key = ("estimates", "sqlite:///x.db", 7, None, None)
    frame = pd.DataFrame({"id": range(50_000), "name": [f"org {i}" for i in range(50_000)]})
    calls = []
    first = framecache.cached_frame(tmp_path, key, lambda: calls.append(1) or frame)
    again = framecache.cached_frame(tmp_path, key, lambda: calls.append(1) or frame)  # written or not yet: no reload
    assert calls == [1]
    pd.testing.assert_frame_equal(again, first)
    framecache.flush()
    pd.testing.assert_frame_equal(pd.read_parquet(framecache.path_for(tmp_path, key)), frame)
    assert not list(tmp_path.glob("*.tmp"))  # written to a temporary name, then renamed


def test_a_pointer_is_written_after_the_file_it_names(tmp_path):
    key = ("estimates", "sqlite:///x.db", 8, None, None)
    framecache.cached_frame(tmp_path, key, lambda: pd.DataFrame({"id": [1, 2, 3]}))
    framecache.remember(tmp_path, ("estimates-now", "sqlite:///x.db"), key, 8, {"mark": "2025-01-01T00:00:00"})
    order, info, frame = framecache.recall(tmp_path, ("estimates-now", "sqlite:///x.db"))  # waits for the writer
    assert (order, info, frame["id"].tolist()) == (8, {"mark": "2025-01-01T00:00:00"}, [1, 2, 3])


def test_a_file_that_cannot_be_written_is_logged_and_the_frame_still_served(tmp_path, caplog):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    frame = framecache.cached_frame(blocked, ("k", 1), lambda: pd.DataFrame({"a": [1]}))
    framecache.flush()
    assert frame["a"].tolist() == [1]
    assert "could not keep frame" in caplog.text
    again = framecache.cached_frame(blocked, ("k", 1), lambda: pd.DataFrame({"a": [2]}))
    assert again["a"].tolist() == [2]  # nothing kept: computed again, never a stale or torn file


def test_a_process_that_exits_right_after_loading_still_leaves_its_files(tmp_path):
    """The interpreter waits for the writer at exit; the write must not need anything exit has
    shut down already (pyarrow converting columns on a thread pool did: the file was lost)."""
    script = ("import sys, pandas as pd\n"
              "from fleet import framecache\n"
              "frame = pd.DataFrame({f'c{i}': [f'value {j}' for j in range(300_000)] for i in range(8)})\n"
              "framecache.cached_frame(sys.argv[1], ('k', 1), lambda: frame)\n")  # no flush(): exit at once
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True)
    assert "could not keep frame" not in done.stderr
    kept = pd.read_parquet(framecache.path_for(tmp_path, ("k", 1)))
    assert kept.shape == (300_000, 8) and kept["c7"].iloc[-1] == "value 299999"
