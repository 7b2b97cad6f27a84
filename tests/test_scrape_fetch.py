"""The fetch layer against a real HTTP server on 127.0.0.1: timeouts, retries, caps, gzip, 304s.

No database here; every case is a real socket and a real ``httpx.Client``.
"""

from __future__ import annotations

import gzip
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from fleet.ingest.scrapers.fetch import CSV_TYPES, FetchError, Fetcher, FetchPolicy, make_client, retry_after_seconds
from fleet.ingest.scrapers.raw import RawDocument, Validators
from tests.webserver import FixtureServer, Route

CLUSTERS = (Path(__file__).resolve().parent / "data" / "epoch" / "gpu_clusters" / "gpu_clusters.csv").read_bytes()
FAST = FetchPolicy(connect_timeout=2, read_timeout=2, max_attempts=3, backoff_initial=0.01, backoff_max=0.05,
                   jitter=0.01)


@pytest.fixture
def web():
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture
def fetcher():
    def make(policy: FetchPolicy = FAST) -> Fetcher:
        client = make_client(policy)
        clients.append(client)
        return Fetcher(client, policy)
    clients: list[httpx.Client] = []
    yield make
    for client in clients:
        client.close()


def test_fetches_the_real_epoch_file_with_its_provenance(web, fetcher):
    url = web.add("/gpu_clusters.csv", body=CLUSTERS, etag=True, last_modified="Mon, 01 Dec 2025 10:00:00 GMT")
    before = datetime.now(UTC).replace(tzinfo=None)
    doc = fetcher().fetch(url)
    assert doc.body == CLUSTERS and doc.size == len(CLUSTERS) and doc.status == 200
    assert doc.sha256 == "%064x" % int.from_bytes(__import__("hashlib").sha256(CLUSTERS).digest(), "big")
    assert doc.url == doc.final_url == url and doc.content_type.startswith("text/csv")
    assert doc.etag and doc.last_modified == "Mon, 01 Dec 2025 10:00:00 GMT"
    assert before <= doc.fetched_at <= datetime.now(UTC).replace(tzinfo=None)
    agent = web.hits_of("/gpu_clusters.csv")[0].headers["user-agent"]
    assert agent.startswith("Fleet-scraper/") and "+http" in agent


def test_a_slow_server_times_out_with_a_clear_error(web, fetcher):
    url = web.add("/slow.csv", body=b"a,b\n1,2\n", delay=8.0)
    policy = FetchPolicy(read_timeout=0.3, max_attempts=2, backoff_initial=0.01, backoff_max=0.01, jitter=0)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"slow\.csv failed after 2 attempts: .*read timeout"):
        fetcher(policy).fetch(url)
    assert time.monotonic() - started < 6.0  # gave up on each read timeout; waiting would take 16 s
    assert len(web.hits_of("/slow.csv")) == 2


def test_500_then_200_is_retried_and_succeeds(web, fetcher):
    url = web.add("/flaky.csv", body=b"a\n1\n", statuses=[500, 503])
    doc = fetcher().fetch(url)
    assert doc.body == b"a\n1\n"
    assert len(web.hits_of("/flaky.csv")) == 3


def test_persistent_5xx_fails_after_the_last_attempt(web, fetcher):
    url = web.add("/down.csv", body=b"x", statuses=[502, 502, 502, 502])
    with pytest.raises(FetchError, match="failed after 3 attempts: HTTP 502 Bad Gateway"):
        fetcher().fetch(url)
    assert len(web.hits_of("/down.csv")) == 3


def test_429_with_retry_after_is_honoured(web, fetcher):
    url = web.add("/limited.csv", body=b"a\n1\n", statuses=[429], headers={"Retry-After": "1"})
    assert fetcher().fetch(url).body == b"a\n1\n"
    first, second = web.hits_of("/limited.csv")
    assert second.at - first.at >= 0.95  # the server's pause, not the 10 ms backoff


def test_a_retry_after_longer_than_the_limit_fails_at_once(web, fetcher):
    url = web.add("/later.csv", body=b"a", statuses=[429], headers={"Retry-After": "3600"})
    with pytest.raises(FetchError, match="HTTP 429 Too Many Requests"):
        fetcher().fetch(url)
    assert len(web.hits_of("/later.csv")) == 1


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == pytest.approx(30)
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_a_truncated_body_is_an_error_not_a_short_file(web, fetcher):
    url = web.add("/cut.csv", body=CLUSTERS[:200_000], truncate_at=50_000)
    with pytest.raises(FetchError, match="truncated body"):
        fetcher().fetch(url)


def test_the_wrong_content_type_is_refused_without_retrying(web, fetcher):
    url = web.add("/login.csv", body=b"<html><body>Please log in</body></html>", content_type="text/html")
    with pytest.raises(FetchError, match="sent 'text/html', not one of text/csv"):
        fetcher().fetch(url, accept=CSV_TYPES)
    assert len(web.hits_of("/login.csv")) == 1


def test_a_redirect_loop_stops_at_the_limit(web, fetcher):
    web.add("/a.csv", redirect_to="/b.csv")
    web.add("/b.csv", redirect_to="/a.csv")
    policy = FetchPolicy(max_redirects=4, max_attempts=1)
    with pytest.raises(FetchError, match="too many redirects"):
        fetcher(policy).fetch(web.url("/a.csv"))
    assert len(web.hits_of("/a.csv")) + len(web.hits_of("/b.csv")) == 5


def test_redirects_are_followed_and_the_final_url_kept(web, fetcher):
    final = web.add("/data/v2/file.csv", body=b"a\n1\n")
    start = web.add("/file.csv", redirect_to="/data/v2/file.csv")
    doc = fetcher().fetch(start)
    assert doc.url == start and doc.final_url == final


@pytest.mark.parametrize("chunked, message", [(True, "passed the .* cap while downloading"),
                                              (False, "the body is 10,485,760 bytes, over the")])
def test_a_10_mb_body_over_the_cap_is_refused(web, fetcher, chunked, message):
    url = web.add("/huge.csv", body=b"x" * (10 * 1024 * 1024), chunked=chunked)
    policy = FetchPolicy(max_bytes=5 * 1024 * 1024, max_attempts=1)
    with pytest.raises(FetchError, match=message):
        fetcher(policy).fetch(url)


def test_gzip_is_accepted_and_decoded(web, fetcher):
    url = web.add("/zipped.csv", body=CLUSTERS, gzip=True)
    doc = fetcher().fetch(url)
    assert doc.body == CLUSTERS and doc.size == len(CLUSTERS)
    assert "gzip" in web.hits_of("/zipped.csv")[0].headers["accept-encoding"]
    assert len(gzip.compress(CLUSTERS)) < len(CLUSTERS) // 3  # the wire really carried the small form


def test_an_etag_round_trip_gives_not_modified(web, fetcher):
    url = web.add("/tagged.csv", body=CLUSTERS, etag=True)
    fetch = fetcher()
    first = fetch.fetch(url)
    again = fetch.fetch(url, previous=Validators(etag=first.etag, sha256=first.sha256))
    assert again.not_modified and again.status == 304 and again.body == b"" and not again.fresh
    assert web.hits_of("/tagged.csv")[1].headers["if-none-match"] == first.etag


def test_last_modified_round_trip_gives_not_modified(web, fetcher):
    stamp = "Tue, 02 Dec 2025 08:00:00 GMT"
    url = web.add("/dated.csv", body=b"a\n1\n", last_modified=stamp)
    again = fetcher().fetch(url, previous=Validators(last_modified=stamp))
    assert again.not_modified and web.hits_of("/dated.csv")[0].headers["if-modified-since"] == stamp


def test_the_same_content_without_validators_is_marked_unchanged(web, fetcher):
    url = web.add("/plain.csv", body=b"a\n1\n")
    fetch = fetcher()
    first = fetch.fetch(url)
    again = fetch.fetch(url, previous=Validators(sha256=first.sha256))
    assert first.fresh and again.unchanged and not again.fresh and again.status == 200


def test_a_404_fails_at_once(web, fetcher):
    with pytest.raises(FetchError, match="HTTP 404 Not Found"):
        fetcher().fetch(web.url("/missing.csv"))
    assert len(web.hits_of("/missing.csv")) == 1


def test_a_refused_connection_is_retried_then_reported(fetcher):
    with pytest.raises(FetchError, match="after 3 attempts: could not connect"):
        fetcher().fetch("http://127.0.0.1:9/nothing.csv")


def test_at_most_n_requests_per_host_at_once(web, fetcher):
    url = web.add("/busy.csv", body=b"a\n", delay=0.15)
    fetch = fetcher(FetchPolicy(per_host=2, max_attempts=1))
    threads = [threading.Thread(target=fetch.fetch, args=(url,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(web.hits_of("/busy.csv")) == 6
    assert web.max_in_flight == 2


def test_stored_payloads_round_trip_and_are_checked():
    doc = RawDocument(url="https://x.org/a.csv", final_url="https://x.org/a.csv", status=200,
                      fetched_at=datetime(2025, 1, 1), body=CLUSTERS)
    fields = dict(url=doc.url, final_url=doc.final_url, status=200, fetched_at=doc.fetched_at, sha256=doc.sha256)
    assert len(doc.compressed()) < doc.size // 3 and doc.compressed() == doc.compressed()
    assert RawDocument.from_stored(payload=doc.compressed(), encoding="gzip", **fields).body == CLUSTERS
    with pytest.raises(ValueError, match="does not match its sha256"):
        RawDocument.from_stored(payload=gzip.compress(b"other"), encoding="gzip", **fields)
