"""Benchmark: many slow sources fetched and parsed concurrently, beside a sequential run.

Each of N sources (50; 20 with ``--quick``) is its own local HTTP server on 127.0.0.1
(its own port, so its own host for the per-host limit) that answers after 100 ms with a
small Epoch-format staff-reports CSV. Both runs go through the real pipeline -- the
``Runner``'s fetch (``httpx``, retries, caps, per-host slots) and the ``epoch-staff``
parser -- once with one worker (the baseline, ~N x 100 ms) and once with the runner's
thread pool. Nothing touches a database: this measures the network-bound stage that
``scrape all`` runs concurrently.

Target (issue 6): 50 sources in <= 1.5 s, against the sequential ~5 s.
``run(quick, repeat)`` returns rows of {"name", "value", "baseline", "ratio", "target",
"met"}; registered as the ``scrape`` benchmark.

    python -m bench --only scrape [--quick]      (or: python -m bench.bench_scrape [--quick])
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.registry import benchmark

DELAY_S = 0.1
FULL_SOURCES, QUICK_SOURCES = 50, 20
TARGET_S = 1.5
WORKERS = 16
BODY = (
    "Company,Staff count,Date,Source 1,Source 2,Notes,Type,Division name\n"
    "Acme AI,120,2024-01-31,https://example.org/acme-2024,,From the careers page,,\n"
    "Acme AI,310,2025-01-31,https://example.org/acme-2025,,LinkedIn headcount,,\n"
    "Beta Labs,45,2025-03-01,https://example.org/beta,,Press release,,\n"
).encode()


class _Slow(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall

    def do_GET(self) -> None:  # noqa: N802
        time.sleep(DELAY_S)
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=utf-8")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args) -> None:
        pass


def start_servers(count: int) -> list[ThreadingHTTPServer]:
    servers = []
    for _ in range(count):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
    return servers


def timed(sources: list[str], workers: int) -> float:
    from fleet.config import Settings
    from fleet.ingest.scrapers import get
    from fleet.ingest.scrapers.fetch import Fetcher, FetchPolicy, make_client
    from fleet.ingest.scrapers.runner import Job, Runner, run_concurrently

    policy = FetchPolicy()
    with make_client(policy) as client:
        runner = Runner(None, Settings(), Fetcher(client, policy), max_workers=workers)
        jobs = [Job(get("epoch-staff"), url) for url in sources]
        started = time.perf_counter()
        collected = run_concurrently(jobs, runner.collect, workers)
        seconds = time.perf_counter() - started
    if any(c.parsed is None or len(c.parsed.records) != 3 for c in collected):
        raise SystemExit("bench_scrape: a source was not fetched and parsed in full")
    return seconds


def run(quick: bool, repeat: int = 1) -> list[dict]:
    """Medians of ``repeat`` sequential and concurrent runs against the same servers."""
    count = QUICK_SOURCES if quick else FULL_SOURCES
    servers = start_servers(count)
    try:
        sources = [f"http://127.0.0.1:{s.server_address[1]}/staff_reports.csv" for s in servers]
        timed(sources[:2], 2)  # warm up imports and the client, outside both clocks
        sequential = statistics.median(timed(sources, 1) for _ in range(max(1, repeat)))
        concurrent = statistics.median(timed(sources, WORKERS) for _ in range(max(1, repeat)))
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    return [{
        "name": f"scrape: {count} sources x {DELAY_S * 1000:.0f} ms, concurrent vs sequential (s)",
        "value": round(concurrent, 3), "baseline": round(sequential, 3),
        "ratio": round(concurrent / sequential, 3), "target": f"<= {TARGET_S} s", "met": concurrent <= TARGET_S,
    }]


@benchmark("scrape")
def bench(ctx) -> list[dict]:
    return run(ctx.quick, repeat=1 if ctx.quick else 3)


def table(results: list[dict]) -> str:
    from bench.report import table as render

    return render(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SOURCES} sources instead of {FULL_SOURCES}")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    results = run(args.quick)
    print(json.dumps(results, indent=2) if args.json else table(results))


if __name__ == "__main__":
    main()
