"""One hostile client beside well-behaved ones: does it push their /api/nearest latency up?

The victims (4 keep-alive connections from 127.0.0.1) ask ``/api/nearest?k=3`` at street
origins; the hostile client (from another loopback address, 127.0.0.2, so it is another
client to the server) sends isochrones (six budgets up to 60 minutes, random origins) at
10/s, locator pages with cache-busting parameters (random ``center``, ``zoom``, unknown
keys, every language) at 5/s and map tiles at random places of the area at 10/s — each
within the per-endpoint request limit, as in issue 12 — and ignores 429. Three runs of the
same server, side by side: quiet (victims alone), hostile with the budget on (the default),
hostile with rate limits and budget off (what the server did before). Prints victims'
p50/p99, the ratio to quiet, and what the hostile client got (answers, 429s). Nothing is
asserted.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["hostile_runs"]

VICTIMS = 4
#: The hostile client's streams and their rates (requests/s), each within the default
#: per-endpoint request limit (600/minute): issue 12's "5 pages/s" and "isochrones within
#: the limit", plus random tiles. It ignores 429 and Retry-After.
HOSTILE_RATES = {"isochrone": 10.0, "page": 5.0, "tile": 10.0}


def _victims(port: int, origins: list[tuple[float, float]], seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = [0]
    stop_at = time.perf_counter() + seconds
    lock = threading.Lock()

    def worker(i: int) -> None:
        rng = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < stop_at:
            lon, lat = origins[rng.randrange(len(origins))]
            t0 = time.perf_counter()
            try:
                conn.request("GET", f"/api/nearest?lon={lon:.6f}&lat={lat:.6f}&k=3")
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - t0)
            time.sleep(0.02)  # a phone does not hammer: ~40 requests/s per connection at most
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(VICTIMS)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    ms = np.array(latencies) * 1000
    return {
        "requests": int(ms.size),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "errors": errors[0],
    }


def _hostile(
    port: int,
    origins: list[tuple[float, float]],
    bounds: Any,
    stop: threading.Event,
    tally: dict[str, int],
) -> list[threading.Thread]:
    import math

    minlon, minlat, maxlon, maxlat = bounds

    def tile_path(rng: random.Random) -> str:
        lon, lat = rng.uniform(minlon, maxlon), rng.uniform(minlat, maxlat)
        z = rng.choice((15, 16, 17, 18))
        n = 2**z
        y = int(
            (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi)
            / 2
            * n
        )
        x = int((lon + 180) / 360 * n)
        return f"/tiles/{rng.choice(['zh', 'en', 'ja', 'ko'])}/{z}/{x}/{y}.png"

    def worker(i: int, stream: str, rate: float) -> None:
        rng = random.Random(100 + i)
        conn = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=60, source_address=("127.0.0.2", 0)
        )
        next_at = time.perf_counter()
        while not stop.is_set():
            next_at += 1.0 / rate
            time.sleep(max(0.0, next_at - time.perf_counter()))
            lon, lat = origins[rng.randrange(len(origins))]
            pick = ("isochrone", "page", "tile").index(stream)
            if pick == 0:
                path = f"/api/isochrone?lon={lon:.6f}&lat={lat:.6f}&minutes=5,10,15,20,30,60"
            elif pick == 1:
                lang = rng.choice(["zh", "en", "ja", "ko", "fr", ""])
                path = (
                    f"/?lang={lang}&center={lon:.6f},{lat:.6f}&zoom={rng.randint(12, 18)}"
                    f"&x={rng.random()}"
                )
            else:
                path = tile_path(rng)
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                key = (
                    "429" if response.status == 429 else "ok" if response.status < 400 else "other"
                )
                tally[key] = tally.get(key, 0) + 1
            except (OSError, http.client.HTTPException):
                tally["error"] = tally.get("error", 0) + 1
                conn = http.client.HTTPConnection(
                    "127.0.0.1", port, timeout=60, source_address=("127.0.0.2", 0)
                )

    pool = [
        threading.Thread(target=worker, args=(i, stream, rate), daemon=True)
        for i, (stream, rate) in enumerate(HOSTILE_RATES.items())
    ]
    for t in pool:
        t.start()
    return pool


def hostile_runs(
    area_name: str,
    store: Path,
    area: Any,
    origins: list[tuple[float, float]],
    *,
    seconds: float,
    threads: int,
    start_server: Any,
    free_port: Any,
    wait_ready: Any,
    cpu_seconds: Any,
    stop_server: Any,
) -> list[dict[str, Any]]:
    """Quiet, hostile with the budget, hostile without it: the victims' figures of each."""
    rows = []
    for label, protected, hostile in (
        ("quiet (budget on)", True, False),
        ("hostile, budget on", True, True),
        ("hostile, budget off", False, True),
        ("quiet again", True, False),
    ):
        port = free_port()
        env = {
            "WARMHEART_RATELIMIT_ENABLED": "1" if protected else "0",
            "WARMHEART_RATELIMIT": "100000/minute",  # the per-endpoint count is not the subject
        }
        proc = start_server(area_name, store, None, port, threads, tiles="local", env=env)
        try:
            wait_ready(port, proc, origins[0])
            _victims(port, origins, 2.0)  # warm up
            stop = threading.Event()
            tally: dict[str, int] = {}
            pool = _hostile(port, origins, area.bounds, stop, tally) if hostile else []
            time.sleep(1.0 if hostile else 0.0)
            cpu0 = cpu_seconds(proc.pid)
            row = _victims(port, origins, seconds)
            cpu1 = cpu_seconds(proc.pid)
            stop.set()
            for t in pool:
                t.join(timeout=60)
        finally:
            stop_server(proc)
        row.update(
            label=label, hostile=dict(tally), server_cpu_s=round((cpu1 or 0) - (cpu0 or 0), 1)
        )
        rows.append(row)
    quiet = rows[0]["p99_ms"]
    rates = ", ".join(f"{k} {v:g}/s" for k, v in HOSTILE_RATES.items())
    print(
        f"\n== one hostile client ({rates}) beside {VICTIMS} phones, {area_name}, "
        f"{seconds:g} s each =="
    )
    print(
        f"{'run':<22}{'victim req':>11}{'p50 ms':>9}{'p99 ms':>9}{'p99/quiet':>10}"
        f"{'server CPU s':>13}  hostile answers"
    )
    for r in rows:
        print(
            f"{r['label']:<22}{r['requests']:>11,}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
            f"{r['p99_ms'] / quiet:>9.1f}x{r['server_cpu_s']:>13.1f}  {r['hostile'] or '-'}"
        )
    return rows
