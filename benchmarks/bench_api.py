"""API load benchmark: ``/api/nearest`` with 32 concurrent clients on loopback.

Starts ``warmheart serve`` (waitress, ``--threads``, ``channel_request_lookahead=4``) and,
side by side in the same run, the same app under waitress with its default settings and
under Flask's development server (what a user would otherwise run with ``flask run``),
then loads ``/api/nearest`` at random origins on the area's streets with 32 keep-alive
connections for a fixed duration. The load tool is ``wrk`` (Debian package) with a Lua
script when it is installed, else a bounded Python load generator (threads +
``http.client`` keep-alive). Prints p50/p99 latency, throughput, error counts, the server's
own CPU time per request (from ``/proc``: unlike req/s, it does not depend on how much of a
shared machine the server gets) and the waitress : dev-server ratios. Nothing is asserted.

Then one hostile client beside four well-behaved ones (``_hostile.py``): isochrone floods,
cache-busting locator pages and random tiles from another loopback address, with the
cost-weighted budget on and off; the victims' ``/api/nearest`` p99 against the quiet figure.

Data sets:

* ``helsinki``: the embedded sample area with its sample stations (``warmheart demo`` data).
* ``liechtenstein`` (``--large``): ``../shared/osm/liechtenstein.osm.pbf``'s walk graph with
  10,000 random stations (seeded), when the extract is present.

Usage::

    python benchmarks/bench_api.py [--duration 10] [--connections 32] [--threads 8] [--large]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED_OSM = ROOT.parent / "shared" / "osm"

_LUA = """
local origins = {%(origins)s}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(seed * 7919)
end
function request()
  local o = origins[math.random(#origins)]
  return wrk.format("GET", string.format("/api/nearest?lon=%%.6f&lat=%%.6f&k=3", o[1], o[2]))
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%d, " ..
    "\\"p90_us\\": %%d, \\"p99_us\\": %%d, \\"max_us\\": %%d, \\"connect\\": %%d, " ..
    "\\"read\\": %%d, \\"write\\": %%d, \\"status\\": %%d, \\"timeout\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""

#: The app of ``sys.argv`` (area, store, port, plan), as both peer servers build it.
_APP = """
import sys
from webmap import create_app
config = {"WARMHEART_AREA": sys.argv[1], "WARMHEART_STORE": sys.argv[2],
          "WARMHEART_TILES": "none", "WARMHEART_RATELIMIT_ENABLED": False}
if sys.argv[4]:
    config["WARMHEART_PLAN_DIR"] = sys.argv[4]
app = create_app(config)
"""
_DEV_SERVER = (
    _APP
    + """
print("READY", flush=True)
app.run(host="127.0.0.1", port=int(sys.argv[3]), threaded=True, use_reloader=False)
"""
)
#: waitress with ``channel_request_lookahead`` argv[5] and argv[6] threads.
_PLAIN_WAITRESS = (
    _APP
    + """
import waitress
waitress.serve(app, host="127.0.0.1", port=int(sys.argv[3]), threads=int(sys.argv[6]),
               channel_request_lookahead=int(sys.argv[5]), _quiet=True)
"""
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(
    port: int, proc: subprocess.Popen[str], origin: tuple[float, float], timeout: float = 600.0
) -> float:
    """Wait until the server answers a nearest query; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() < started + timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            conn.request("GET", f"/api/nearest?lon={origin[0]:.6f}&lat={origin[1]:.6f}&k=3")
            status = conn.getresponse()
            status.read()
            conn.close()
            if status.status == 200:
                return time.monotonic() - started
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("server did not start in time")


def origins_for(area: Any, n: int = 2000, seed: int = 7) -> list[tuple[float, float]]:
    """Random walk-graph nodes, jittered by up to ~40 m: places people stand on streets."""
    rng = np.random.default_rng(seed)
    arrays = area.arrays("walk")
    pick = rng.integers(0, arrays.n, n)
    x = arrays.x[pick] + rng.uniform(-40, 40, n)
    y = arrays.y[pick] + rng.uniform(-40, 40, n)
    lon, lat = area.unproject(x, y)
    return [(float(a), float(b)) for a, b in zip(lon, lat, strict=True)]


# ----------------------------------------------------------------------------- load tools


def run_wrk(
    port: int,
    origins: list[tuple[float, float]],
    *,
    connections: int,
    duration: float,
    threads: int,
) -> dict[str, Any]:
    table = ",".join(f"{{{lon:.6f},{lat:.6f}}}" for lon, lat in origins)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_LUA % {"origins": table})
        script = fh.name
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{int(duration)}s",
                "--timeout",
                "10s",
                "-s",
                script,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 60,
        ).stdout
    finally:
        os.unlink(script)
    match = re.search(r"WRKJSON (\{.*\})", out)
    if not match:
        raise RuntimeError(f"could not read wrk output:\n{out}")
    raw = json.loads(match.group(1))
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    seconds = raw["duration_us"] / 1e6
    return {
        "tool": "wrk",
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "rps": raw["requests"] / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": errors,
        "error_detail": {k: raw[k] for k in ("connect", "read", "write", "status", "timeout")},
    }


def run_python(
    port: int,
    origins: list[tuple[float, float]],
    *,
    connections: int,
    duration: float,
    max_requests: int = 200_000,
) -> dict[str, Any]:
    """Bounded Python load: ``connections`` threads, keep-alive, until ``duration`` passes."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    stop_at = time.perf_counter() + duration
    budget = max_requests // connections

    def worker(i: int) -> None:
        rng = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(budget):
            if time.perf_counter() >= stop_at:
                break
            lon, lat = origins[rng.randrange(len(origins))]
            t0 = time.perf_counter()
            try:
                conn.request("GET", f"/api/nearest?lon={lon:.6f}&lat={lat:.6f}&k=3")
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            latencies[i].append(time.perf_counter() - t0)
        conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    seconds = time.perf_counter() - started
    lat = np.array([v for row in latencies for v in row]) * 1000
    return {
        "tool": "python",
        "requests": int(lat.size),
        "seconds": round(seconds, 2),
        "rps": lat.size / seconds,
        "p50_ms": float(np.percentile(lat, 50)) if lat.size else float("nan"),
        "p90_ms": float(np.percentile(lat, 90)) if lat.size else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if lat.size else float("nan"),
        "max_ms": float(lat.max()) if lat.size else float("nan"),
        "errors": sum(errors),
    }


# --------------------------------------------------------------------------------- servers


def start_waitress(
    area: str,
    store: Path,
    plan: Path | None,
    port: int,
    threads: int,
    *,
    tiles: str = "none",
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        "-c",
        "from webmap.cli import main; main()",
        "serve",
        "--area",
        area,
        "--store",
        str(store),
        "--port",
        str(port),
        "--threads",
        str(threads),
        "--tiles",
        tiles,
    ]
    if plan is not None:
        cmd += ["--plan", str(plan)]
    environment = {**os.environ, "WARMHEART_RATELIMIT_ENABLED": "0", **(env or {})}
    return subprocess.Popen(
        cmd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )


def start_dev_server(area: str, store: Path, plan: Path | None, port: int) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        "-c",
        _DEV_SERVER,
        area,
        str(store),
        str(port),
        str(plan) if plan else "",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)


def start_plain_waitress(
    area: str, store: Path, plan: Path | None, port: int, threads: int, lookahead: int
) -> subprocess.Popen[str]:
    """waitress on the same app with ``channel_request_lookahead`` (0: waitress's default)."""
    cmd = [sys.executable, "-c", _PLAIN_WAITRESS, area, str(store), str(port)]
    cmd += [str(plan) if plan else "", str(lookahead), str(threads)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (Linux ``/proc``), else ``None``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    label: str, start: Any, port: int, origins: list[tuple[float, float]], args: argparse.Namespace
) -> dict[str, Any]:
    proc = start()
    try:
        ready_s = wait_ready(port, proc, origins[0])
        # Warm up: first queries build the locator's labels for each kind.
        run_python(port, origins, connections=4, duration=2.0)
        # The server's own CPU time per request does not depend on how much of the machine
        # the server gets, unlike req/s and latency on a shared box.
        cpu_before = cpu_seconds(proc.pid)
        if shutil.which("wrk") and not args.python_load:
            result = run_wrk(
                port,
                origins,
                connections=args.connections,
                duration=args.duration,
                threads=args.wrk_threads,
            )
        else:
            result = run_python(port, origins, connections=args.connections, duration=args.duration)
        cpu_after = cpu_seconds(proc.pid)
    finally:
        stop(proc)
    result["cpu_ms"] = (
        (cpu_after - cpu_before) * 1000 / max(result["requests"], 1)
        if cpu_before is not None and cpu_after is not None
        else float("nan")
    )
    result["server"] = label
    result["ready_s"] = round(ready_s, 1)
    return result


# -------------------------------------------------------------------------------- data sets


def helsinki_data() -> tuple[str, Path, Path | None, Any, int]:
    from routing import load_area
    from webmap.demo import prepare_demo

    config = prepare_demo(riders=40, time_limit_s=2.0, quiet=True)
    area = load_area("helsinki")
    n = sum(config["demo"]["stations"]["by_kind"].values())
    return "helsinki", Path(config["WARMHEART_STORE"]), Path(config["WARMHEART_PLAN_DIR"]), area, n


def liechtenstein_data(workdir: Path, n: int = 10_000) -> tuple[str, Path, None, Any, int] | None:
    from routing import load_area
    from stations.model import AMENITIES, KINDS, Station
    from stations.store import open_store

    pbf = SHARED_OSM / "liechtenstein.osm.pbf"
    if not pbf.is_file():
        print(f"(skipping the large data set: {pbf} not found)")
        return None
    print("Loading Liechtenstein (built and cached on first use; minutes)...", flush=True)
    area = load_area(str(pbf), progress=True)
    rng = np.random.default_rng(11)
    arrays = area.arrays("walk")
    pick = rng.integers(0, arrays.n, n)
    hours = ["24/7", "Mo-Fr 08:00-18:00", "Mo-Su 07:00-22:00", None]
    stations = [
        Station(
            id=f"b{i:05d}",
            kind=KINDS[int(rng.integers(0, 3))],
            name=f"Bench station {i}",
            lon=float(arrays.lon[v]),
            lat=float(arrays.lat[v]),
            amenities=frozenset(
                rng.choice(AMENITIES, size=int(rng.integers(0, 4)), replace=False).tolist()
            ),
            opening_hours=hours[int(rng.integers(0, len(hours)))],
            source="benchmark",
        )
        for i, v in enumerate(pick)
    ]
    store_path = workdir / "liechtenstein-10k.gpkg"
    store = open_store(path=store_path)
    store.add(stations)
    store.close()
    return str(pbf), store_path, None, area, n


# ------------------------------------------------------------------------------------ main


def report(name: str, n_stations: int, area: Any, rows: list[dict[str, Any]]) -> None:
    print(
        f"\n== /api/nearest k=3, {name}: {area.walk.number_of_nodes():,} walk nodes, "
        f"{n_stations:,} stations =="
    )
    header = (
        f"{'server':<22}{'tool':<8}{'requests':>9}{'req/s':>9}{'p50 ms':>9}"
        f"{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}{'ready s':>9}{'CPU ms/req':>11}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['server']:<22}{r['tool']:<8}{r['requests']:>9,}{r['rps']:>9.0f}"
            f"{r['p50_ms']:>9.1f}{r['p90_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['max_ms']:>9.0f}"
            f"{r['errors']:>8}{r['ready_s']:>9.1f}{r['cpu_ms']:>11.2f}"
        )
    if len(rows) >= 2 and rows[-1]["rps"] > 0:
        w, d = rows[0], rows[-1]
        print(
            f"ratio waitress : dev server  throughput x{w['rps'] / d['rps']:.2f}, "
            f"p50 x{d['p50_ms'] / w['p50_ms']:.2f} faster, "
            f"p99 x{d['p99_ms'] / w['p99_ms']:.2f} faster"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--large", action="store_true", help="also 10,000 stations on Liechtenstein's walk graph"
    )
    parser.add_argument("--no-hostile", action="store_true", help="skip the hostile-client runs")
    parser.add_argument("--hostile-duration", type=float, default=20.0)
    parser.add_argument(
        "--python-load",
        action="store_true",
        help="use the Python load generator even when wrk is installed",
    )
    args = parser.parse_args()
    tool = "wrk" if shutil.which("wrk") and not args.python_load else "python load generator"
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"load: {tool}, {args.connections} connections, {args.duration:g} s per run; "
        f"waitress threads: {args.threads}; loopback only; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sets = [helsinki_data()]
        if args.large:
            large = liechtenstein_data(Path(tmp))
            if large is not None:
                sets.append(large)
        for area_name, store, plan, area, n in sets:
            origins = origins_for(area)
            rows = []
            port = free_port()
            rows.append(
                measure(
                    f"serve ({args.threads} thr)",
                    lambda a=area_name, s=store, p=plan, q=port: start_waitress(
                        a, s, p, q, args.threads
                    ),
                    port,
                    origins,
                    args,
                )
            )
            port = free_port()
            rows.append(  # waitress's defaults: what serve's lookahead setting is against
                measure(
                    "waitress defaults",
                    lambda a=area_name, s=store, p=plan, q=port: start_plain_waitress(
                        a, s, p, q, args.threads, 0
                    ),
                    port,
                    origins,
                    args,
                )
            )
            port = free_port()
            rows.append(
                measure(
                    "flask dev (threaded)",
                    lambda a=area_name, s=store, p=plan, q=port: start_dev_server(a, s, p, q),
                    port,
                    origins,
                    args,
                )
            )
            label = area.name if area_name != "helsinki" else "helsinki"
            report(label, n, area, rows)
            results[label] = rows
            if not args.no_hostile:
                from _hostile import hostile_runs

                results[f"{label} hostile"] = hostile_runs(
                    area_name,
                    store,
                    area,
                    origins,
                    seconds=args.hostile_duration,
                    threads=args.threads,
                    start_server=start_waitress,
                    free_port=free_port,
                    wait_ready=wait_ready,
                    cpu_seconds=cpu_seconds,
                    stop_server=stop,
                )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_api.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
