"""`make bench`: start a real server process and measure what the issues ask for.

Prints one JSON object and writes it to var/bench/latest.json. Keys:
  issue_per_s              tickets issued per second through the API, 8 keep-alive clients
  call_to_display_ms_p50   click on call-next (HTTP request sent) to ticket_called received
  call_to_display_ms_p99   by real Socket.IO display clients, with `clients` connected
  clients                  websocket clients connected in branch rooms during the calls
  server_rss_mb            server memory with those clients connected
plus the figures of the printing and announcement parts, and of the reports
(tests/bench/reports.py):
  report_year_ms           a year of a busy branch at day grain with every breakdown, on
                           {"sqlite": {median, max, n, cold_ms}, "postgres": {...}}
  report_year_tickets      the year's size (tickets, events)
  report_year_events
  report_month_ms          a 31-day report (exact percentiles), median, per database
  report_today_ms          today so far on the year's busiest day, median, per database
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.server import ServerProcess  # noqa: E402
from tests.bench.stats import pct  # noqa: E402

PASSWORD = "bench-admin-password"
BRANCHES = 50          # 1000 clients = 50 branches x 20 displays
DISPLAYS_PER_BRANCH = 20
ISSUE_CLIENTS = 8
ISSUE_SECONDS = 8.0
CALLS = 100


def bench_config(path: Path) -> None:
    """The default branch plus 49 more like it (a regional deployment)."""
    base = (ROOT / "config" / "branches.toml").read_text(encoding="utf-8")
    body = base.split("[[branch]]", 1)[1]
    extra = "".join("[[branch]]" + body.replace('code = "casa-hay-hassani"', f'code = "bench-{i}"', 1)
                    for i in range(2, BRANCHES + 1))
    path.write_text(base + "\n" + extra, encoding="utf-8")


def prepare(db_url: str, config: Path) -> dict:
    """Migrate and seed, then create device tokens straight in the database."""
    from queue_server.app import create_app
    from queue_server.settings import Settings
    app = create_app(Settings(database_url=db_url, async_mode="threading", config_path=config,
                              admin_password=PASSWORD))
    t = app.extensions["tabour"]
    ids = sorted(t.branch_ids())
    tokens = {"displays": {b: [t.auth.create_device(b, "display", f"tv-{b}-{i}")
                               for i in range(DISPLAYS_PER_BRANCH)] for b in ids},
              "kiosk": {b: t.auth.create_device(b, "kiosk", f"kiosk-{b}")
                        for b in ids[1:ISSUE_CLIENTS + 1]}}
    t.db.dispose()
    return tokens


def measure_issue_rate(server: ServerProcess, kiosk_tokens: list[str]) -> tuple[float, int]:
    """8 kiosks of 8 branches issue at once through one server (a regional
    deployment); each branch's queue grows to a deep morning-rush queue."""
    counts = [0] * ISSUE_CLIENTS
    errors = []
    start = threading.Barrier(ISSUE_CLIENTS + 1)
    stop_at = [0.0]

    def client(i):
        with requests.Session() as s:
            s.headers["Authorization"] = f"Bearer {kiosk_tokens[i]}"
            start.wait()
            n = 0
            while time.perf_counter() < stop_at[0]:
                r = s.post(f"{server.url}/api/v1/tickets",
                           json={"service": "ABCDE"[n % 5], "language": "ar"})
                if r.status_code != 201:
                    errors.append(r.text)
                    return
                n += 1
            counts[i] = n

    threads = [threading.Thread(target=client, args=(i,)) for i in range(ISSUE_CLIENTS)]
    for th in threads:
        th.start()
    stop_at[0] = time.perf_counter() + ISSUE_SECONDS
    t0 = time.perf_counter()
    start.wait()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"issuing failed: {errors[0]}")
    return sum(counts) / elapsed, max(counts)


async def measure_calls(server: ServerProcess, tokens: dict, admin_token: str, branch_ids) -> dict:
    import aiohttp
    import socketio

    target = branch_ids[0]
    received: dict[str, list[float]] = {}
    clients = []

    async def connect(token, watch):
        c = socketio.AsyncClient(reconnection=False)
        if watch:
            @c.on("ticket_called")
            async def _called(p):
                received.setdefault(p["code"], []).append(time.perf_counter())
        await c.connect(server.url, auth={"token": token}, transports=["websocket"],
                        wait_timeout=30)
        clients.append(c)

    jobs = [(tok, b == target) for b in branch_ids for tok in tokens["displays"][b]]
    for i in range(0, len(jobs), 50):  # connect in waves, like a morning of TVs waking up
        await asyncio.gather(*(connect(tok, w) for tok, w in jobs[i:i + 50]))
    rss = server_rss_mb(server.pid)

    headers = {"Authorization": f"Bearer {admin_token}"}
    latencies = []
    async with aiohttp.ClientSession(headers=headers) as http:
        for n in (1, 2, 3, 4, 5, 6):
            await http.post(f"{server.url}/api/v1/counters/{n}/open", json={})
        for i in range(CALLS + 20):
            await http.post(f"{server.url}/api/v1/tickets",
                            json={"service": "ABCDE"[i % 5], "language": "fr"})
        for i in range(CALLS):
            counter = 1 + i % 6
            t0 = time.perf_counter()
            r = await http.post(f"{server.url}/api/v1/counters/{counter}/call-next", json={})
            if r.status != 200:
                raise RuntimeError(f"call-next answered {r.status}: {await r.text()}")
            code = (await r.json())["code"]
            deadline = time.perf_counter() + 2
            while len(received.get(code, [])) < DISPLAYS_PER_BRANCH and time.perf_counter() < deadline:
                await asyncio.sleep(0.0005)
            got = received.get(code, [])
            if len(got) < DISPLAYS_PER_BRANCH:
                raise RuntimeError(f"only {len(got)} displays saw {code}")
            latencies += [(t - t0) * 1000 for t in got]
            await http.post(f"{server.url}/api/v1/counters/{counter}/start", json={})
            await http.post(f"{server.url}/api/v1/counters/{counter}/finish",
                            json={"outcome": "served"})
    await asyncio.gather(*(c.disconnect() for c in clients))
    return {"call_to_display_ms_p50": round(statistics.median(latencies), 2),
            "call_to_display_ms_p99": round(pct(latencies, 99), 2),
            "clients": len(clients), "server_rss_mb": rss}


def server_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return -1.0


def part_figures() -> dict:
    """Figures of the other parts (printing, announcements), when present."""
    out = {}
    try:
        from printers.bench import measure as printers_measure
        out.update(printers_measure())
    except ImportError:
        pass
    try:
        from display.bench import measure as display_measure
        with tempfile.TemporaryDirectory() as d:
            out.update(display_measure(d))
    except ImportError:
        pass
    return out


def browser_and_print_figures(work: Path) -> dict:
    """Tap-to-printed on a virtual network printer, click-to-display in Chromium and
    the first announcement, against a second, fresh server on the default branch."""
    from display.bench import measure_click_to_display, measure_first_announcement
    from tests.bench.tap_to_print import measure_tap_to_print
    from playwright.sync_api import sync_playwright

    from e2e.conftest import CHROMIUM, CHROMIUM_ARGS
    server = ServerProcess(f"sqlite:///{work / 'pages.sqlite'}", work / "pages.log", PASSWORD,
                           TABOUR_VAR_DIR=str(work / "pages-var")).start()
    out = {}
    try:
        token = server.token()
        out.update(measure_tap_to_print(server.url, token))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                out.update(measure_click_to_display(browser, server.url, token))
                out.update(measure_first_announcement(browser, server.url, token))
            finally:
                browser.close()
    finally:
        server.stop()
    return out


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=ROOT / "var"))
    config = work / "branches.toml"
    bench_config(config)
    db_url = f"sqlite:///{work / 'tabour.sqlite'}"
    tokens = prepare(db_url, config)
    server = ServerProcess(db_url, work / "server.log", PASSWORD,
                           TABOUR_CONFIG=str(config), TABOUR_VAR_DIR=str(work)).start()
    try:
        admin = server.token()
        branch_ids = sorted(tokens["displays"])
        # issuing in other branches keeps the measured branch's queue at branch size
        rate, depth = measure_issue_rate(server, list(tokens["kiosk"].values()))
        result = {"issue_per_s": round(rate, 1), "issue_queue_depth_max": depth}
        result.update(asyncio.run(measure_calls(server, tokens, admin, branch_ids)))
    finally:
        server.stop()
    result.update(part_figures())
    from bench.reports import measure_reports
    result.update(measure_reports())
    result.update(browser_and_print_figures(work))
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "server": "gevent, 1 process, SQLite WAL"}
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
