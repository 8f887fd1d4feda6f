"""A report: a branch, a range of branch days and a grain, from summaries and raw days.

Closed days come from ``report_days`` (filled by ``close_day`` or, lazily, here);
today and any day that still has a live ticket are computed from the raw rows at
each call. Up to ``EXACT_DAYS`` days the summaries carry the durations, so the
percentiles are exact; beyond, they come from the one-minute histograms and the
report says so (``percentiles``).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from ..db import repo
from ..db import schema as s
from ..dossiers.schema import dossiers as D
from . import summary
from .facts import DayFigures, branch_today, compute_days, days_between
from .figures import EXACT_DAYS, Stats

GRAINS = ("hour", "day", "week")
MAX_DAYS = 1096            # three years, a leap day included
HOUR_GRAIN_MAX_DAYS = 31
BACKFILL_CHUNK_DAYS = 7    # raw days read at once when summaries are missing (short
                           # queries: SQLite does not yield to other requests inside one)
WAIT_BINS_SHOWN = 90       # the wait distribution chart: minutes 0..89, then "90+"

# what each table shows, in this order, in JSON, CSV, XLSX and on the page
COHORT_COLUMNS = ("arrivals", "served", "no_show", "no_show_rate", "cancelled",
                  "cancellation_rate", "cancelled_at_close", "transferred", "open",
                  "wait_mean_min", "wait_median_min", "wait_p90_min", "service_mean_min",
                  "service_p90_min", "sl_met", "sl_total", "service_level", "printed_n",
                  "printed_mae_min", "printed_bias_min")
COLUMNS = {
    "periods": COHORT_COLUMNS,
    "period_services": COHORT_COLUMNS,
    "service": ("target_min",) + COHORT_COLUMNS,
    "channel": COHORT_COLUMNS,
    "priority": COHORT_COLUMNS,
    "outcome": ("served", "share", "wait_mean_min", "wait_p90_min", "service_mean_min",
                "service_p90_min"),
    "counter": ("calls", "served", "marked_no_show", "transfers_out", "service_mean_min",
                "service_p90_min", "open_hours", "served_per_open_hour"),
    "agent": ("calls", "served", "marked_no_show", "transfers_out", "service_mean_min",
              "service_p90_min"),
    "transfer": ("transfers", "wait_after_mean_min", "wait_after_median_min",
                 "wait_after_p90_min"),
}
BREAKDOWNS = ("service", "counter", "agent", "outcome", "channel", "priority", "transfer")


from ..engine.errors import DomainError
from ..engine.messages import N_, register

register({
    "invalid_grain": N_("grain must be one of %(choices)s."),
    "empty_range": N_("The range is empty: 'to' (%(to)s) is before 'from' (%(from)s). Swap "
                      "them."),
    "range_too_long": N_("A report covers at most %(max_days)s days; this range has %(days)s. "
                         "Ask for a shorter range."),
    "hour_range_too_long": N_("An hourly report covers at most %(max_days)s days; this range "
                              "has %(days)s. Choose the day or week grain, or a shorter range."),
    "report_branch_not_found": N_("There is no branch %(branch)s."),
})


class ReportError(DomainError):
    """Input a report cannot be made from: the API answers 400 with it."""

    kind = "bad_request"


@dataclass(frozen=True)
class Context:
    branch: repo.Branch
    services: list
    counters: dict  # id -> (number, name)
    today: str
    now: datetime

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.branch.timezone)


def check_range(day_from: date, day_to: date, grain: str) -> int:
    if grain not in GRAINS:
        raise ReportError("invalid_grain", choices=GRAINS, grain=grain)
    if day_to < day_from:
        raise ReportError("empty_range", **{"from": str(day_from), "to": str(day_to)})
    days = (day_to - day_from).days + 1
    if days > MAX_DAYS:
        raise ReportError("range_too_long", days=days, max_days=MAX_DAYS)
    if grain == "hour" and days > HOUR_GRAIN_MAX_DAYS:
        raise ReportError("hour_range_too_long", days=days, max_days=HOUR_GRAIN_MAX_DAYS)
    return days


_Q_COUNTERS = (select(s.counters.c.id, s.counters.c.number, s.counters.c.name)
               .where(s.counters.c.branch_id == bindparam("b")))


def context(conn, branch_id: int, now: datetime) -> Context:
    branch = repo.load_branch(conn, branch_id)
    if branch is None:
        raise ReportError("report_branch_not_found", branch=branch_id)
    services = repo.load_services(conn, branch_id)
    counters = {r.id: (r.number, r.name) for r in conn.execute(_Q_COUNTERS, {"b": branch_id})}
    return Context(branch, services, counters, branch_today(branch, now), now)


# --- gathering days ------------------------------------------------------------------

@dataclass
class Gathered:
    ctx: Context
    days: dict      # day -> DayFigures: whole for computed days, period dimensions for summaries
    range: dict     # (dim, key) -> Stats over the range (breakdown dimensions)
    charts: dict    # chart aggregates (summary.chart_aggregates)
    dossiers: list
    complete: bool  # every day of the range is closed


def gather(db, branch_id: int, day_from: str, day_to: str, now: datetime, exact: bool,
           hourly: bool) -> Gathered:
    """Figures of every day of the range and the chart aggregates.

    Closed days come from their summaries; a closed day without one is computed from
    the raw rows and stored first (the lazy backfill: computed in a read transaction,
    written a few days per short write transaction). Today, and any earlier day that
    still has a live ticket, are computed from the raw rows at each call and never
    stored."""
    with db.read() as conn:
        ctx = context(conn, branch_id, now)
        present = {d for d in summary.summarized_days(conn, branch_id, day_from, day_to)
                   if d < ctx.today}
    raw_days = [d for d in days_between(day_from, min(day_to, ctx.today)) if d not in present]
    live: dict[str, DayFigures] = {}
    for chunk in _runs(raw_days, BACKFILL_CHUNK_DAYS):
        with db.read() as conn:
            figs = compute_days(conn, ctx.branch, ctx.services, chunk[0], chunk[-1], now)
        summary.store_in_own_transactions(db, branch_id, list(figs.values()), now)
        for d, fig in figs.items():
            if fig.closed:
                present.add(d)
            else:
                live[d] = fig
    last = min(day_to, (date.fromisoformat(ctx.today) - timedelta(days=1)).isoformat())
    with db.read() as conn:
        if present:
            loaded = summary.load(conn, branch_id, day_from, last, exact, hourly)
            charts = summary.chart_aggregates(conn, branch_id, day_from, last)
        else:
            loaded = summary.Loaded({}, {})
            charts = {"hour_service": {}, "day_hour": {}, "counter_hour": {}}
        dossiers = dossier_rows(conn, branch_id, day_from, day_to)
    raw_charts = summary.chart_aggregates_of(live.values())
    for key, acc in raw_charts["hour_service"].items():
        tot = charts["hour_service"].setdefault(key, [0, 0, 0])
        for i in range(3):
            tot[i] += acc[i]
    for name in ("day_hour", "counter_hour"):
        charts[name] = {**charts[name], **raw_charts[name]}
    if not exact:
        for f in live.values():
            for st in f.stats.values():
                st.wait.values = st.service.values = None
    rng = loaded.range
    for fig in live.values():
        for (dim, key), st in fig.stats.items():
            if dim not in summary.PERIOD_DIMS and dim not in summary.HOURLY_DIMS:
                rng.setdefault((dim, key), Stats()).merge(st)
    days = {d: f for d, f in loaded.days.items() if d in present}
    days.update(live)
    complete = day_to < ctx.today and not live
    return Gathered(ctx, days, rng, charts, dossiers, complete)


def _runs(days: list[str], size: int):
    """Consecutive days, at most ``size`` per run."""
    run: list[str] = []
    for d in days:
        if run and (date.fromisoformat(d) - date.fromisoformat(run[-1])).days != 1 \
                or len(run) == size:
            yield run
            run = []
        run.append(d)
    if run:
        yield run


# --- the report ---------------------------------------------------------------------

def report(db, branch_id: int, day_from: date, day_to: date, grain: str,
           now: datetime) -> dict:
    n_days = check_range(day_from, day_to, grain)
    f, t = day_from.isoformat(), day_to.isoformat()
    exact = n_days <= EXACT_DAYS
    g = gather(db, branch_id, f, t, now, exact, grain == "hour")
    ctx, figs = g.ctx, g.days
    services = {str(sv.id): sv for sv in ctx.services}
    prefix = {str(sv.id): sv.prefix for sv in ctx.services}

    def merged(dim: str) -> dict[str, Stats]:
        out: dict[str, Stats] = {}
        if dim in summary.PERIOD_DIMS:
            for fig in figs.values():
                for (dm, key), st in fig.stats.items():
                    if dm == dim:
                        out.setdefault(key, Stats()).merge(st)
        else:
            for (dm, key), st in g.range.items():
                if dm == dim:
                    out[key] = st
        return out

    totals_st = merged("all").get("", Stats())
    counters = merged("counter")
    totals = row_of("periods", totals_st)
    totals["transfers"] = sum(st.transfers_out for st in merged("transfer").values())
    totals["calls"] = sum(st.calls for st in counters.values())

    periods = _periods(ctx, figs, days_between(f, t), grain, prefix)
    breakdowns = {}
    targets_used = _targets_used(figs, ctx)
    service_rows = merged("service")
    for dim in BREAKDOWNS:
        rows = service_rows if dim == "service" else counters if dim == "counter" \
            else merged(dim)
        breakdowns[dim] = _breakdown(dim, rows, ctx, services, targets_used)

    printed_n = totals_st.printed_n
    return {
        "branch": {"id": ctx.branch.id, "code": ctx.branch.code, "names": ctx.branch.names,
                   "timezone": ctx.branch.timezone},
        "from": f, "to": t, "grain": grain, "days": n_days,
        "generated_at": now.astimezone(ctx.tz).isoformat(timespec="seconds"),
        "today": ctx.today,
        "complete": g.complete,
        "percentiles": "exact_nearest_rank" if exact else "histogram_1min",
        "services": [{"id": sv.id, "prefix": sv.prefix, "names": sv.names,
                      "target_min": sv.target_wait_minutes} for sv in ctx.services],
        "totals": totals,
        "printed": ({"status": "ok", "n": printed_n,
                     "mae_min": totals["printed_mae_min"],
                     "bias_min": totals["printed_bias_min"]}
                    if printed_n else {"status": "missing", "n": 0}),
        "periods": periods,
        "breakdowns": breakdowns,
        "charts": _charts(ctx, service_rows, g.charts),
        "dossiers": _dossiers(g.dossiers),
        "columns": {k: list(v) for k, v in COLUMNS.items()},
    }


def row_of(table: str, st: Stats, extra: dict | None = None) -> dict:
    fig = st.figures()
    if extra:
        fig.update(extra)
    if table == "transfer":
        fig["transfers"] = st.transfers_out
        fig["wait_after_mean_min"] = fig["wait_mean_min"]
        fig["wait_after_median_min"] = fig["wait_median_min"]
        fig["wait_after_p90_min"] = fig["wait_p90_min"]
    return {c: fig.get(c) for c in COLUMNS[table]}


def _targets_used(figs: dict, ctx: Context) -> dict[str, set]:
    used: dict[str, set] = defaultdict(set)
    for fig in figs.values():
        if fig.stats.get(("all", "")) is None or not fig.stats[("all", "")].arrivals:
            continue
        for sid, target in fig.targets.items():
            if ("service", str(sid)) in fig.stats:
                used[str(sid)].add(target)
    return used


def _breakdown(dim: str, rows: dict[str, Stats], ctx: Context, services: dict,
               targets_used: dict) -> list[dict]:
    out = []
    if dim == "service":
        order = [str(sv.id) for sv in ctx.services] + sorted(set(rows) - set(services))
        for key in order:
            sv = services.get(key)
            st = rows.get(key, Stats())
            used = sorted(targets_used.get(key, ()))
            target = used[0] if len(used) == 1 else (sv.target_wait_minutes if sv and not used
                                                     else None)
            out.append({"key": sv.prefix if sv else key,
                        "label": sv.names if sv else {"en": key},
                        **row_of(dim, st, {"target_min": target}),
                        **({"targets_used": used} if len(used) > 1 else {})})
        return out
    if dim == "counter":
        def sort_key(k):
            return (ctx.counters.get(int(k), (10 ** 6, ""))[0], k)
        for key in sorted(rows, key=sort_key):
            number, name = ctx.counters.get(int(key), (None, key))
            out.append({"key": str(number) if number is not None else key, "number": number,
                        "label": {"en": name}, **row_of(dim, rows[key])})
        return out
    if dim == "outcome":
        total = sum(st.served for st in rows.values())
        for key in sorted(rows, key=lambda k: -rows[k].served):
            st = rows[key]
            out.append({"key": key, "label": {"en": key},
                        **row_of(dim, st, {"share": round(st.served / total, 4)
                                           if total else None})})
        return out
    if dim == "transfer":
        pref = {str(sv.id): sv.prefix for sv in ctx.services}
        for key in sorted(rows, key=lambda k: -rows[k].transfers_out):
            a, _, b = key.partition(">")
            out.append({"key": f"{pref.get(a, a)}>{pref.get(b, b)}",
                        "from": pref.get(a, a), "to": pref.get(b, b),
                        **row_of(dim, rows[key])})
        return out
    order = {"channel": ("kiosk", "counter", "api", "phone"),
             "priority": ("normal", "elderly", "disabled", "pregnant")}.get(dim)
    keys = sorted(rows, key=lambda k: ((order.index(k) if order and k in order else 99), k))
    if dim == "agent":
        keys = sorted(rows, key=lambda k: (-rows[k].served, k))
    for key in keys:
        out.append({"key": key, "label": {"en": key}, **row_of(dim, rows[key])})
    return out


def period_of(day: str, grain: str) -> str:
    if grain == "week":
        d = date.fromisoformat(day)
        return (d - timedelta(days=d.weekday())).isoformat()
    return day


def hour_start(day: str, hour: str, rollover: int) -> str:
    d = date.fromisoformat(day)
    if int(hour) < rollover:
        d += timedelta(days=1)
    return f"{d.isoformat()}T{hour}:00"


def _periods(ctx: Context, figs: dict, days: list[str], grain: str, prefix: dict) -> list:
    buckets: dict[str, dict] = {}
    ndays: dict[str, int] = defaultdict(int)
    if grain == "hour":
        for d in days:
            fig = figs.get(d)
            if fig is None:
                continue
            for (dim, key), st in fig.stats.items():
                if dim == "hour":
                    p = hour_start(d, key, ctx.branch.policy.rollover_hour)
                    buckets.setdefault(p, {"all": Stats(), "services": {}})["all"].merge(st)
                elif dim == "hour_service":
                    hh, _, sid = key.partition(":")
                    p = hour_start(d, hh, ctx.branch.policy.rollover_hour)
                    b = buckets.setdefault(p, {"all": Stats(), "services": {}})
                    b["services"].setdefault(sid, Stats()).merge(st)
        keys = sorted(buckets)
    else:
        for d in days:
            p = period_of(d, grain)
            b = buckets.setdefault(p, {"all": Stats(), "services": {}})
            ndays[p] += 1
            fig = figs.get(d)
            if fig is None:
                continue
            for (dim, key), st in fig.stats.items():
                if dim == "all":
                    b["all"].merge(st)
                elif dim == "service":
                    b["services"].setdefault(key, Stats()).merge(st)
        keys = list(buckets)
    out = []
    for p in keys:
        b = buckets[p]
        out.append({"period": p, "days": ndays.get(p, 0) if grain != "hour" else None,
                    "all": row_of("periods", b["all"]),
                    "services": {prefix.get(sid, sid): row_of("period_services", st)
                                 for sid, st in sorted(b["services"].items(),
                                                       key=lambda kv: prefix.get(kv[0], kv[0]))}})
    return out


def _charts(ctx: Context, service_rows: dict, agg: dict) -> dict:
    """The plots' data: hour of day x service, weekday x hour, waits against target,
    counters open against arrivals by hour."""
    rollover = ctx.branch.policy.rollover_hour
    day_hour = agg["day_hour"]
    counter_hour = agg["counter_hour"]
    hours_seen = {k for (_d, k) in day_hour} | {k for (_d, k) in counter_hour} | \
        {k.partition(":")[0] for k in agg["hour_service"]}
    # local hours in branch-day order: from the rollover hour round the clock
    hours = sorted(hours_seen, key=lambda h: (int(h) - rollover) % 24)
    active_days = sorted({d for (d, _k), n in day_hour.items() if n})
    n_active = len(active_days) or 1

    by_hour = {}
    for sv in ctx.services:
        sid = str(sv.id)
        arrivals, waits = [], []
        for h in hours:
            a, wn, ws = agg["hour_service"].get(f"{h}:{sid}", [0, 0, 0])
            arrivals.append(round(a / n_active, 2))
            waits.append(round(ws / wn / 60, 1) if wn else None)
        by_hour[sv.prefix] = {"arrivals_per_day": arrivals, "wait_mean_min": waits}

    # weekday x hour: mean arrivals per day of that weekday (days with arrivals)
    wd_days: dict[int, set] = defaultdict(set)
    wd_hour: dict[tuple, int] = defaultdict(int)
    for (d, h), n in day_hour.items():
        if n:
            wd = summary.weekday(d)
            wd_days[wd].add(d)
            wd_hour[(wd, h)] += n
    heat = []
    for (wd, h), n in sorted(wd_hour.items()):
        heat.append([wd, h, round(n / len(wd_days[wd]), 1)])

    # waits against target: one-minute histogram per service
    waits = {}
    for sv in ctx.services:
        st = service_rows.get(str(sv.id), Stats())
        hist = list(st.wait.hist[:WAIT_BINS_SHOWN])
        hist += [0] * (WAIT_BINS_SHOWN - len(hist))
        hist.append(sum(st.wait.hist[WAIT_BINS_SHOWN:]))
        waits[sv.prefix] = {"bins": hist, "target_min": sv.target_wait_minutes,
                            "called": st.wait.n}

    # counters open against load, by hour: means per active day
    load_arrivals, counters_open = [], []
    for h in hours:
        load_arrivals.append(round(sum(n for (d, k), n in day_hour.items() if k == h)
                                   / n_active, 2))
        counters_open.append(round(sum(v for (d, k), v in counter_hour.items() if k == h)
                                   / 3600 / n_active, 2))
    return {"hours": hours, "active_days": len(active_days), "by_hour": by_hour,
            "heatmap": heat, "waits": waits, "wait_bins_shown": WAIT_BINS_SHOWN,
            "load": {"arrivals_per_day": load_arrivals, "counters_open": counters_open}}


# --- dossiers -----------------------------------------------------------------------

_Q_DOSSIERS = (select(D.c.type_code, D.c.status, D.c.missing)
               .where(D.c.branch_id == bindparam("b"), D.c.day >= bindparam("f"),
                      D.c.day <= bindparam("t")))


def dossier_rows(conn, branch_id: int, day_from: str, day_to: str) -> list:
    return [(r.type_code, r.status, bool(r.missing))
            for r in conn.execute(_Q_DOSSIERS, {"b": branch_id, "f": day_from, "t": day_to})]


def is_incomplete(status: str, has_missing: bool) -> bool:
    """A dossier is incomplete while it is marked so, or while documents declared
    missing at the drop-off have not been brought (its list of missing documents)."""
    return status == "incomplete" or (has_missing and status in ("deposited", "received",
                                                                  "in_review"))


def _dossiers(rows: list) -> dict:
    by_type: dict[str, dict] = {}
    by_status: dict[str, int] = defaultdict(int)
    for type_code, status, has_missing in rows:
        t = by_type.setdefault(type_code, {"type": type_code, "deposited": 0, "incomplete": 0})
        t["deposited"] += 1
        t["incomplete"] += is_incomplete(status, has_missing)
        by_status[status] += 1
    return {"deposited": len(rows),
            "incomplete": sum(t["incomplete"] for t in by_type.values()),
            "by_type": sorted(by_type.values(), key=lambda t: -t["deposited"]),
            "by_status": dict(sorted(by_status.items()))}


# --- today so far -------------------------------------------------------------------

def today(conn, branch_id: int, now: datetime) -> dict:
    """Today so far for a branch: what the live dashboard shows, computed by the same
    code as the reports (the report of today at the same ``now`` gives the same
    numbers). Bounded by today's tickets and events: cheap enough every few seconds."""
    ctx = context(conn, branch_id, now)
    fig = compute_days(conn, ctx.branch, ctx.services, ctx.today, ctx.today, now)[ctx.today]
    st_all = fig.get("all")
    totals = row_of("periods", st_all)
    priority = sum(st.arrivals for (dim, key), st in fig.stats.items()
                   if dim == "priority" and key != "normal")
    outcomes = {key: st.served for (dim, key), st in sorted(fig.stats.items())
                if dim == "outcome"}
    transfers = sum(st.transfers_out for (dim, _k), st in fig.stats.items() if dim == "transfer")
    dossiers = _dossiers(dossier_rows(conn, branch_id, ctx.today, ctx.today))
    # the trend of the day: arrivals and mean wait by local hour of issue, per service
    rollover = ctx.branch.policy.rollover_hour
    hours = sorted({k for (dim, k) in fig.stats if dim == "hour"},
                   key=lambda h: (int(h) - rollover) % 24)
    services = []
    for sv in ctx.services:
        st = fig.stats.get(("service", str(sv.id)), Stats())
        trend = []
        for h in hours:
            hs = fig.stats.get(("hour_service", f"{h}:{sv.id}"), Stats())
            mean = hs.wait.mean_s()
            trend.append({"hour": h, "arrivals": hs.arrivals,
                          "wait_mean_min": None if mean is None else round(mean / 60, 1)})
        services.append({"prefix": sv.prefix, "names": sv.names,
                         "target_min": sv.target_wait_minutes, **row_of("service", st, {
                             "target_min": sv.target_wait_minutes}), "trend": trend})
    counters = []
    for cid, (number, name) in sorted(ctx.counters.items(), key=lambda kv: kv[1][0]):
        st = fig.stats.get(("counter", str(cid)), Stats())
        counters.append({"number": number, "name": name, **row_of("counter", st)})
    return {
        "day": ctx.today,
        "generated_at": now.astimezone(ctx.tz).isoformat(timespec="seconds"),
        "totals": {
            "issued": st_all.arrivals, "served": st_all.served, "no_show": st_all.no_show,
            "cancelled": st_all.cancelled, "transfers": transfers, "open": st_all.open,
            "priority": priority,
            "priority_share": round(priority / st_all.arrivals, 4) if st_all.arrivals else None,
            "outcomes": outcomes,
            "wait_mean_min": totals["wait_mean_min"], "wait_p90_min": totals["wait_p90_min"],
            "service_level": totals["service_level"], "sl_met": totals["sl_met"],
            "sl_total": totals["sl_total"],
            "dossiers_deposited": dossiers["deposited"],
            "dossiers_incomplete": dossiers["incomplete"],
        },
        "hours": hours,
        "services": services,
        "counters": counters,
    }
