"""HTTP throughput of `crmlink serve` against a bare FastAPI route, same machine, same run.

Starts two uvicorn servers (one worker each, access log off): crmlink on a fresh SQLite file
with the demo's memory-CRM connection, and a bare FastAPI app whose one route returns a JSON
body equal to crmlink's create answer. Both are loaded at concurrency 16 with create
invocations (POST with Basic auth and the seed's body) for about 10 s each, in interleaved
rounds (bare, crmlink, crmlink, bare, ...) so that drift in the machine's speed falls on both
sides alike. The load comes from `wrk` when it is installed (`apt-get install wrk`; C, one
thread, so the load generator is not the bottleneck), otherwise from an httpx client in this
process (which then bounds both sides and flatters the ratio). Prints req/s, p50 and p99 (over
every request of the rounds) for both and the ratio; then sends 50,000 more invocations
(updates of one record, so that the memory CRM's own data does not grow) and prints the growth
of crmlink's resident memory.

    uv run python benchmarks/http_throughput.py [--seconds 10] [--rounds 5] [--concurrency 16]
                                                [--total 50000]

Targets (issue #3): ratio ≥ 0.5, p99 < 50 ms, RSS growth < 20 MB over 50,000 invocations.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

BARE_APP = textwrap.dedent("""
    import sys, uvicorn
    from fastapi import FastAPI
    app = FastAPI()
    BODY = {"record": {"type": "opportunity", "id": "Opportunity:006000000000003",
            "data": {"document_name": "Apple Sales Contract", "document_tags": {}}},
            "action": "create"}
    @app.post("/api/v1/crm/{connection}/objects/{object}/events/{event}")
    def create(connection: str, object: str, event: str) -> dict:
        return BODY
    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
""")
PATH = "/api/v1/crm/demo/objects/opportunity/events/create_opportunity"
BODY = b'{"payload": {"name": "Apple Sales Contract"}}'


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early ({process.returncode})")
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not start")


def _rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else float("nan")


async def _load(
    url: str,
    auth: tuple[str, str] | None,
    seconds: float,
    concurrency: int,
    count: int | None = None,
    path: str = PATH,
    body: bytes = BODY,
) -> list[float]:
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    remaining = [count] if count is not None else None
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(
        base_url=url, auth=auth, limits=limits, timeout=30, headers=headers
    ) as client:

        async def worker() -> None:
            while True:
                if remaining is not None:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                elif time.monotonic() >= stop:
                    return
                started = time.perf_counter()
                response = await client.post(path, content=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"{response.status_code}: {response.text}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"payload": {"name": "Apple Sales Contract"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "%s"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout))
  for i = 1, #latency do
    local value, count = latency(i)
    io.write(string.format("LATENCY %%d %%d\\n", value, count))
  end
end
"""


@dataclass
class _Round:
    requests: int
    seconds: float
    latencies_us: Counter[int]
    """Every request's latency in µs, as a histogram (value -> count)."""


def _wrk(url: str, auth: tuple[str, str], seconds: int, concurrency: int) -> _Round:
    """One round measured by wrk (one thread, so the client needs one core)."""
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % f"Basic {token}")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "-s", script.name, f"{url}{PATH}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+)", out)
    if match is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    requests, micros, errors = (int(g) for g in match.groups())
    if errors:
        raise SystemExit(f"wrk saw {errors} errors (or non-2xx answers):\n{out[:2000]}")
    latencies: Counter[int] = Counter()
    for value, count in re.findall(r"LATENCY (\d+) (\d+)", out):
        latencies[int(value)] += int(count)
    return _Round(requests, micros / 1e6, latencies)


def _httpx(url: str, auth: tuple[str, str], seconds: int, concurrency: int) -> _Round:
    """One round measured by an httpx client in this process."""
    latencies = asyncio.run(_load(url, auth, seconds, concurrency))
    return _Round(len(latencies), seconds, Counter(round(x * 1e6) for x in latencies))


def _percentile_ms(histogram: Counter[int], fraction: float) -> float:
    """The latency below which ``fraction`` of the requests fall (nearest rank), in ms."""
    rank = fraction * sum(histogram.values())
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value / 1000
    return float("nan")


def _summary(name: str, rounds: list[_Round]) -> float:
    rate = sum(r.requests for r in rounds) / sum(r.seconds for r in rounds)
    merged: Counter[int] = Counter()
    for r in rounds:
        merged.update(r.latencies_us)
    p50, p99 = _percentile_ms(merged, 0.50), _percentile_ms(merged, 0.99)
    print(
        f"{name:<12} {rate:9.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
        f"(rounds: {', '.join(f'{r.requests / r.seconds:.0f}' for r in rounds)} req/s)"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per side")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--total", type=int, default=50_000, help="invocations for the memory-growth check"
    )
    parser.add_argument(
        "--python-client", action="store_true", help="load with httpx even when wrk is installed"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="crmlink-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "CRMLINK_SECRET_KEY"}
    crm_port, bare_port = _port(), _port()
    crmlink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crmlink.cli",
            "serve",
            "--demo",
            "--no-access-log",
            "--port",
            str(crm_port),
            "--database",
            f"sqlite:///{workdir / 'bench.db'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    bare = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, str(bare_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert crmlink.stdout is not None
        key = update_path = ""
        for line in crmlink.stdout:
            if "API key" in line:
                key = line.split()[-1]
            if "/events/document_updated" in line:
                update_path = "/api/v1/" + line.split("/api/v1/")[1].split()[0]
                break
        key_id, _, secret = key.partition(":")
        crm_url, bare_url = f"http://127.0.0.1:{crm_port}", f"http://127.0.0.1:{bare_port}"
        _wait(crm_url, crmlink)
        _wait(bare_url, bare)
        auth = (key_id, secret)
        asyncio.run(_load(bare_url, auth, 1.0, args.concurrency))  # warm up
        asyncio.run(_load(crm_url, auth, 1.0, args.concurrency))
        use_wrk = shutil.which("wrk") is not None and not args.python_client
        per_round = max(1, round(args.seconds / args.rounds))
        print(
            f"concurrency {args.concurrency}, {args.rounds} rounds of {per_round} s per side, "
            f"interleaved; one uvicorn worker each, SQLite, memory CRM; load from "
            f"{'wrk' if use_wrk else 'httpx (Python)'}"
        )
        measure = _wrk if use_wrk else _httpx
        sides = {"bare route": bare_url, "crmlink": crm_url}
        rounds: dict[str, list[_Round]] = {name: [] for name in sides}
        for n in range(args.rounds):
            # Alternating which side goes first cancels out drift in the machine's speed.
            for name in list(sides) if n % 2 == 0 else reversed(list(sides)):
                rounds[name].append(measure(sides[name], auth, per_round, args.concurrency))
        bare_rate = _summary("bare route", rounds["bare route"])
        crm_rate = _summary("crmlink", rounds["crmlink"])
        done = sum(r.requests for r in rounds["crmlink"]) + 1000
        print(
            f"ratio crmlink/bare: {crm_rate / bare_rate:.2f} (target ≥ 0.5); "
            "p99 over every request of the rounds (target < 50 ms)"
        )
        # The leak check updates one record: the memory CRM keeps every record it is given
        # (its data is not the server's memory), so creates would measure the CRM's storage.
        rss_before = _rss_mb(crmlink.pid)
        update = b'{"payload": {"name": "Sales Contract", "updated_at": "2022-05-17T23:17:53Z"}}'
        asyncio.run(
            _load(
                crm_url,
                auth,
                1e9,
                args.concurrency,
                count=args.total,
                path=update_path,
                body=update,
            )
        )
        rss_after = _rss_mb(crmlink.pid)
        print(
            f"resident memory: {rss_before:.1f} MB after {done} creates, {rss_after:.1f} MB after "
            f"{args.total} more invocations (updates of one record): growth "
            f"{rss_after - rss_before:+.1f} MB (target < 20 MB)"
        )
    finally:
        for process in (crmlink, bare):
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
