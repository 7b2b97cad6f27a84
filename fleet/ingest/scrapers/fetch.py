"""The fetch layer: one polite, bounded, retried HTTP GET with an injected ``httpx.Client``.

- Timeouts: connect and read separately (``FetchPolicy``); a descriptive User-Agent.
- Retries (tenacity): connect errors, timeouts, dropped connections, HTTP 429 and 5xx,
  with exponential backoff and jitter; a ``Retry-After`` header (seconds or an HTTP
  date) is honoured instead, unless it asks for longer than ``max_retry_after``, which
  fails at once rather than stalling a run. Other 4xx fail at once.
- A size cap enforced while streaming (on the decoded bytes, so a gzip bomb stops too),
  and early when ``Content-Length`` already says too much.
- Redirects followed up to a limit; gzip/deflate accepted and decoded.
- At most ``per_host`` requests in flight per host (scheme, host, port), shared by every
  thread using the same ``Fetcher``.
- Conditional GET: the previous ETag/Last-Modified become If-None-Match/If-Modified-Since,
  and a 304 yields a "not modified" document; a 200 whose sha256 equals the last stored
  one is marked ``unchanged`` (the content-hash short-circuit for servers without validators).
- The content type must be one the caller expects (a CSV source refuses an HTML page).

Every failure is a ``FetchError`` whose message names the URL and what went wrong.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Iterable

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from fleet.db import now_utc
from fleet.ingest.errors import IngestError
from fleet.ingest.scrapers.raw import RawDocument, Validators

DEFAULT_USER_AGENT = "Fleet-scraper/1.0 (open-source tracker of AI compute; +https://github.com/fleet-ai-compute/fleet)"
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/octet-stream", "application/vnd.ms-excel",
             "text/comma-separated-values")
HTML_TYPES = ("text/html", "application/xhtml+xml")


class FetchError(IngestError):
    """A document could not be fetched; the message names the URL and the reason."""


class _Retryable(Exception):
    """An HTTP answer worth asking again (429, 5xx), with the server's Retry-After if any."""

    def __init__(self, status: int, reason: str, retry_after: float | None) -> None:
        self.status, self.reason, self.retry_after = status, reason, retry_after
        super().__init__(f"HTTP {status} {reason}".rstrip())


@dataclass(frozen=True)
class FetchPolicy:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_bytes: int = 64 * 1024 * 1024
    max_attempts: int = 4
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    jitter: float = 1.0
    max_retry_after: float = 120.0
    max_redirects: int = 5
    per_host: int = 4
    user_agent: str = DEFAULT_USER_AGENT

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect_timeout, read=self.read_timeout, write=self.read_timeout,
                             pool=self.connect_timeout + self.read_timeout)


def make_client(policy: FetchPolicy = FetchPolicy(), **kwargs) -> httpx.Client:
    """The client the CLI and app use; tests may build their own (any ``httpx.Client`` works)."""
    return httpx.Client(timeout=policy.timeout(), follow_redirects=True, max_redirects=policy.max_redirects,
                        headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16), **kwargs)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date; None if absent or junk."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, (_Retryable, httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.ReadTimeout):
        return "the server stopped sending (read timeout)"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({exc})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection broke off mid-answer — truncated body? ({exc})"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects (a redirect loop?)"
    if isinstance(exc, httpx.DecodingError):
        return f"the body could not be decoded ({exc})"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({exc.__class__.__name__})"
    return str(exc) or exc.__class__.__name__


class _Waiter:
    """tenacity wait: the server's Retry-After when it gave one, else backoff with jitter."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy
        self.backoff = wait_exponential_jitter(multiplier=policy.backoff_initial, max=policy.backoff_max,
                                               jitter=policy.jitter)

    def __call__(self, state) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return self.backoff(state)


class Fetcher:
    """Fetch documents through ``client`` under ``policy``; safe to share between threads."""

    def __init__(self, client: httpx.Client, policy: FetchPolicy = FetchPolicy()) -> None:
        self.client, self.policy = client, policy
        self._hosts: dict[tuple[str, str, int | None], threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def _slot(self, url: str) -> threading.BoundedSemaphore:
        parsed = httpx.URL(url)
        key = (parsed.scheme, parsed.host, parsed.port)
        with self._lock:
            return self._hosts.setdefault(key, threading.BoundedSemaphore(self.policy.per_host))

    def fetch(self, url: str, *, accept: Iterable[str] = CSV_TYPES, previous: Validators | None = None) -> RawDocument:
        """GET ``url``; raises ``FetchError`` (after retries where retrying makes sense)."""
        previous = previous or Validators()
        retrying = Retrying(stop=stop_after_attempt(self.policy.max_attempts), wait=_Waiter(self.policy),
                            retry=retry_if_exception(self._should_retry), reraise=True)
        try:
            doc = retrying(self._attempt, url, tuple(accept), previous)
        except FetchError:
            raise
        except (_Retryable, httpx.HTTPError) as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            raise FetchError(f"GET {url} failed{tries}: {_describe(exc)}") from exc
        if previous.sha256 and doc.sha256 == previous.sha256:
            doc = replace(doc, unchanged=True)
        return doc

    def _should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, _Retryable) and exc.retry_after is not None and exc.retry_after > self.policy.max_retry_after:
            return False  # the server asks for a longer pause than a run should stall for
        return _is_retryable(exc)

    def _attempt(self, url: str, accept: tuple[str, ...], previous: Validators) -> RawDocument:
        with self._slot(url):
            with self.client.stream("GET", url, headers=previous.headers()) as response:
                return self._read(url, response, accept)

    def _read(self, url: str, response: httpx.Response, accept: tuple[str, ...]) -> RawDocument:
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Retryable(status, response.reason_phrase, retry_after_seconds(response.headers.get("Retry-After")))
        if status == 304:
            return self._document(url, response, b"", not_modified=True)
        if not 200 <= status < 300:
            raise FetchError(f"GET {url} failed: HTTP {status} {response.reason_phrase}".rstrip())
        self._check_type(url, response, accept)
        return self._document(url, response, self._body(url, response))

    def _check_type(self, url: str, response: httpx.Response, accept: tuple[str, ...]) -> None:
        declared = response.headers.get("Content-Type", "")
        media = declared.split(";")[0].strip().casefold()
        if accept and media and media not in accept:
            raise FetchError(f"GET {url}: the server sent {media!r}, not one of {', '.join(accept)} "
                             "(an error or login page instead of the data?)")

    def _body(self, url: str, response: httpx.Response) -> bytes:
        cap = self.policy.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and "Content-Encoding" not in response.headers and int(declared) > cap:
            raise FetchError(f"GET {url}: the body is {int(declared):,} bytes, over the {cap:,}-byte cap")
        chunks, total = [], 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > cap:
                raise FetchError(f"GET {url}: the body passed the {cap:,}-byte cap while downloading; stopped")
            chunks.append(chunk)
        return b"".join(chunks)

    def _document(self, url: str, response: httpx.Response, body: bytes, not_modified: bool = False) -> RawDocument:
        headers = response.headers
        return RawDocument(url=url, final_url=str(response.url), status=response.status_code, fetched_at=now_utc(),
                           body=body, content_type=headers.get("Content-Type"), etag=headers.get("ETag"),
                           last_modified=headers.get("Last-Modified"), not_modified=not_modified)
