"""Load test of `symgraph serve`, on the loopback interface only, bounded in clients, time and requests.

    python benchmarks/bench_serve.py                      # 50 clients for 10 s, plus one pathological client
    python benchmarks/bench_serve.py --clients 10 --seconds 3

Starts `python -m symgraph serve --port 0` (this checkout) as a separate process, then runs `--clients` threads
that POST the tutorials' three formulas to /api/evaluate in a loop, each at a fresh random point, for
`--seconds`, while one more client sends a pathological formula (a 4,999-character power tower x^x^...^x at a
20x20 random array: tens of seconds of work) again and again. Prints p50/p95/max latency and the error counts
of the normal requests, and what the pathological ones got back: each should be a clear time-budget error,
and no normal request should fail.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = [
    ("((x+5)^3+1)^2", ("x",)),
    ("(x+y)*z", ("x", "y", "z")),
    ("(w*x+b-y)^2/2", ("w", "x", "b", "y")),
]
PATHOLOGICAL = {"formula": "^".join(["x"] * 2500), "inputs": {"x": "rand(20, 20)"}}
MAX_REQUESTS = 200_000  # a bound on the whole run whatever the options say


def post(port: int, body: dict[str, object], timeout: float = 60) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/api/evaluate", json.dumps(body), {"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, json.loads(r.read())
    finally:
        conn.close()


def normal_client(port: int, stop: float, seed: int, latencies: list[float], errors: Counter[str]) -> None:
    rng = random.Random(seed)
    while time.monotonic() < stop and len(latencies) < MAX_REQUESTS:
        formula, names = rng.choice(TUTORIALS)
        body = {"formula": formula, "inputs": {n: repr(round(rng.uniform(-5, 5), 3)) for n in names}}
        t0 = time.perf_counter()
        try:
            status, data = post(port, body)
        except OSError as e:
            errors[f"connection: {type(e).__name__}"] += 1
            continue
        latencies.append(time.perf_counter() - t0)
        if status != 200 or not data.get("ok"):
            errors[f"HTTP {status}"] += 1


def pathological_client(port: int, stop: float, outcomes: list[tuple[int, str, float]]) -> None:
    while time.monotonic() < stop:
        t0 = time.perf_counter()
        status, data = post(port, PATHOLOGICAL)
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        outcomes.append((status, str(error.get("message", "no error!")), time.perf_counter() - t0))  # type: ignore[union-attr]


def start_server(workers: int) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "symgraph", "serve", "--host", "127.0.0.1", "--port", "0", "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # printed once the workers are ready and the port is bound
    if not first.startswith("symgraph playground: http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"the server did not start: {first!r}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain the log
    return proc, int(first.strip().rstrip("/").rsplit(":", 1)[1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=50, help="concurrent normal clients (1-200, default 50)")
    p.add_argument("--seconds", type=float, default=10.0, help="duration (at most 60, default 10)")
    p.add_argument("--workers", type=int, default=2, help="the server's worker processes (default 2)")
    a = p.parse_args()
    clients, seconds = max(1, min(a.clients, 200)), max(1.0, min(a.seconds, 60.0))
    proc, port = start_server(a.workers)
    try:
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        outcomes: list[tuple[int, str, float]] = []
        stop = time.monotonic() + seconds
        threads = [
            threading.Thread(target=normal_client, args=(port, stop, k, latencies, errors)) for k in range(clients)
        ]
        threads.append(threading.Thread(target=pathological_client, args=(port, stop, outcomes)))
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    ms = sorted(x * 1000 for x in latencies)
    print(f"symgraph serve load test: {clients} clients + 1 pathological, {seconds:g} s, {a.workers} workers")
    print(f"cpus: {os.cpu_count()}, wall time {elapsed:.1f} s (the last requests finish after the deadline)")
    if ms:
        q = statistics.quantiles(ms, n=100)
        print(f"normal requests: {len(ms)} ({len(ms) / elapsed:.0f}/s)")
        print(f"latency ms: p50 {q[49]:.0f}, p95 {q[94]:.0f}, max {ms[-1]:.0f}")
    print(f"normal errors: {sum(errors.values())}" + (f" {dict(errors)}" if errors else ""))
    for status, message, took in outcomes:
        print(f"pathological: HTTP {status} after {took:.1f} s: {message}")
    clear = outcomes and all(s == 504 and "time budget" in m for s, m, _ in outcomes)
    verdict = "OK" if clear and not errors else "FAILED"
    failed = sum(errors.values())
    print(f"{verdict}: pathological requests got a clear error: {bool(clear)}; normal requests failed: {failed}")
    sys.exit(0 if verdict == "OK" else 1)


if __name__ == "__main__":
    main()
