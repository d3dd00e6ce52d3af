"""The fallback load client, for machines without wrk: a few processes, each with one thread
per connection, each thread looping on one keep-alive `http.client` connection until the
deadline. It prints one `BENCHJSON` line in wrk's terms. Python is slower than wrk; the
benchmark reports this client's CPU use so that a client-bound figure is visible."""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import threading
import time
from urllib.parse import urlsplit


def _worker(url: str, connections: int, duration: float, method: str, body: str | None,
            tokens: list[str], offset: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + duration
    latencies: list[float] = []
    counts = {"status_errors": 0, "socket_errors": 0, "timeouts": 0}
    lock = threading.Lock()

    def loop(index: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                                timeout=10)
        mine: list[float] = []
        n = offset + index
        while time.monotonic() < deadline:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            if tokens:
                n += 1
                headers["Authorization"] = f"Bearer {tokens[n % len(tokens)]}"
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except TimeoutError:
                with lock:
                    counts["timeouts"] += 1
                connection.close()
                continue
            except (OSError, http.client.HTTPException):
                with lock:
                    counts["socket_errors"] += 1
                connection.close()
                continue
            mine.append(time.perf_counter() - started)
            if not 200 <= response.status < 400:
                with lock:
                    counts["status_errors"] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((latencies, counts))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default=None)
    parser.add_argument("--tokens", default="-")
    args = parser.parse_args()
    tokens: list[str] = []
    if args.tokens != "-":
        with open(args.tokens) as lines:
            tokens = [line.strip() for line in lines if line.strip()]
    processes = max(1, min(4, args.concurrency))
    shares = [args.concurrency // processes + (1 if i < args.concurrency % processes else 0)
              for i in range(processes)]
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    started = time.monotonic()
    children = [multiprocessing.Process(target=_worker, args=(
        args.url, share, args.duration, args.method, args.body, tokens, i * 1000, queue))
        for i, share in enumerate(shares)]
    for child in children:
        child.start()
    latencies: list[float] = []
    totals = {"status_errors": 0, "socket_errors": 0, "timeouts": 0}
    for _ in children:
        found, counts = queue.get()
        latencies.extend(found)
        for key in totals:
            totals[key] += counts[key]
    for child in children:
        child.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def percentile(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    print("BENCHJSON " + json.dumps({
        "requests": len(latencies), "duration_s": elapsed, **totals,
        "p50_ms": percentile(50), "p99_ms": percentile(99),
        "max_ms": latencies[-1] * 1000 if latencies else 0.0,
    }), flush=True)


if __name__ == "__main__":
    main()
