"""The app factory: one Flask app, one Socket.IO server, everything bound here."""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
from pathlib import Path

from flask import Flask, jsonify

from . import i18n, limits, security_headers, sockets, web
from .api import bp as api_bp
from .api import errors
from .auth import Auth
from .clock import utcnow
from .commands import Commands, Writer
from .container import Tabour
from .db.database import Database
from .db.migrate import upgrade_locked
from .fanout import FanOut, make_socketio
from .login_guard import LoginGuard
from .printing_config import PrintingConfig
from .readmodel.dossiers import id_key
from .readmodel.estimates import Estimator
from .readmodel.registry import Projections
from .seed import ensure_admin, load_config, load_regions, seed, seed_regions
from .settings import Settings
from .shared import Leases, Limiter, counters_for

log = logging.getLogger("tabour")


def create_app(settings: Settings | None = None, clock=utcnow) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    app.json.ensure_ascii = False  # Arabic names readable in responses
    limits.install(app)

    from .private import private_dir
    private_dir(settings.var_dir, tighten=True)  # receipts, audio, spool, keys: owner-only
    db = Database(settings.database_url)
    generated = None
    auth = Auth(db, clock)
    if settings.migrate:
        # several processes may start at once: one migrates and seeds, the others wait
        with upgrade_locked(db):
            branches = _branches(settings)
            seed(db, branches)
            if not _is_site(settings):  # a site holds its own branch only
                seed_regions(db, load_regions(settings.config_path), branches)
            generated = ensure_admin(auth, db, settings.admin_password)

    socketio = make_socketio(app, settings)
    if settings.trusted_proxies:
        # outermost, around Socket.IO too: a socket's handshake names the client as
        # well (per-address limits of dossier lookups from phones)
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    shared = counters_for(settings, db, clock)
    auth.guard = LoginGuard(shared, clock, hmac.new(id_key(settings.var_dir), b"device-cookie",
                                                   hashlib.sha256).digest())
    if settings.async_mode == "gevent":
        auth.offload, auth.offload_unknown = _hash_threads()
        auth.tarpit = lambda: socketio.sleep(1.0)
    compute = None
    if settings.async_mode == "gevent" and not settings.forecast_sync:
        from .readmodel.forecast_worker import ForecastProcess
        # simulations never hold up the loop; with several processes the helper also
        # writes each forecast's JSON, which the server publishes (estimates.py)
        compute = ForecastProcess(wire=bool(settings.message_queue)).start()
    commands, limiters = write_path(db, clock, auth, shared, spawn=socketio.start_background_task,
                                    sync_estimates=settings.forecast_sync, compute=compute,
                                    group_commit=settings.group_commit)
    projections, estimator, printing = commands.writer.projections, commands.estimator, \
        commands.printing
    projections.listeners.append(auth.on_batch)
    fanout = FanOut(socketio, projections, estimator, clock, settings.coalesce_s)
    # the forecast is scheduled after the fan-out's emits: under gevent a background task
    # runs in the order it was scheduled, so the displays' sends go before the forecast's
    # input is packed (the estimator's listener was the first one)
    projections.listeners.remove(estimator.on_batch)
    projections.listeners.append(estimator.on_batch)
    from .readmodel.rollup import Rollups
    fanout.rollups = Rollups(db, projections)  # the supervisors' rows, kept per branch
    tabour = Tabour(db=db, auth=auth, commands=commands, projections=projections,
                    estimator=estimator, fanout=fanout, socketio=socketio, settings=settings,
                    clock=clock, printing=printing, shared=shared,
                    leases=Leases(db, clock, ttl_s=float(os.environ.get("TABOUR_LEASE_S", 30))),
                    limiters=limiters, rollups=fanout.rollups)
    app.extensions["tabour"] = tabour
    tabour.dossiers = _dossiers(tabour, settings, clock)
    commands.dossiers = tabour.dossiers
    _site(tabour, settings)
    if settings.message_queue and settings.message_queue.startswith("redis"):
        from .readmodel.transport import RedisTransport
        def after_outage():
            projections.refresh_all()
            fanout.resync_soon()

        def while_down():  # no batches from the others: read the database instead
            def poll():
                while not projections.transport.up:
                    projections.refresh_all()
                    socketio.sleep(0.5)
            socketio.start_background_task(poll)
        projections.transport = RedisTransport(settings.message_queue, settings.channel,
                                               projections.received, socketio, after_outage,
                                               while_down, on_forecast=estimator.received)
        if not settings.forecast_sync:  # one process forecasts a change, the others read it
            estimator.publish = projections.transport.publish_forecast

    if generated:
        # shown once; the operator changes it or creates named accounts
        print(f"\n  First start: an admin account was created.\n"
              f"  username: admin   password: {generated}\n"
              f"  (set TABOUR_ADMIN_PASSWORD to choose it)\n", flush=True)

    i18n.init(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(web.bp)
    from kiosk import register as register_kiosk
    register_kiosk(app)
    from .backoffice import register as register_backoffice
    register_backoffice(app)
    from .dashboard import bp as dashboard_bp
    app.register_blueprint(dashboard_bp)  # /dashboard/ (live) and /dashboard/reports
    from .admin import bp as admin_bp
    app.register_blueprint(admin_bp)  # /admin/
    from .supervisor import bp as supervisor_bp
    app.register_blueprint(supervisor_bp)  # /supervisor/ (regional and national views)
    _init_displays(app, tabour, settings)
    errors.install(app)
    security_headers.install(app)  # CSP and friends on every answer
    from . import no_store
    no_store.install(app)  # Cache-Control: no-store on answers that may hold personal data
    tabour.sessions = sockets.register(socketio, tabour)
    from . import printer_agents
    printer_agents.register(socketio, tabour)
    from . import dossier_fanout
    dossier_fanout.register(tabour)
    from .dashboard.live import DashboardHub
    tabour.dashboard = DashboardHub(tabour).register()

    @app.get("/")
    def index():
        """What this server offers, for branch IT opening it in a browser."""
        return jsonify({"name": "Tabour", "kiosk": "/kiosk/", "display": "/display/",
                        "console": "/console/", "backoffice": "/backoffice/",
                        "dashboard": "/dashboard/", "reports": "/dashboard/reports",
                        "admin": "/admin/", "supervisor": "/supervisor/",
                        "api": "/api/v1/openapi.json", "api_docs": "/api/v1/docs",
                        "health": "/api/v1/health"})

    return app


def _hash_threads():
    """scrypt in real threads (hashlib releases the GIL): the event loop keeps serving.
    Known browsers and admin work get one thread; unknown clients another, which rests
    as long as each hash took: whoever guesses passwords gets at most half a core, and
    never delays the staff's sign-in."""
    import time

    from gevent.monkey import get_original
    from gevent.threadpool import ThreadPool
    rest = get_original("time", "sleep")  # a real sleep, in the pool's own thread
    known, unknown = ThreadPool(1), ThreadPool(1)

    def run_known(fn, *args):
        return known.apply(fn, args)

    def run_unknown(fn, *args):
        def duty():
            t0 = time.perf_counter()
            try:
                return fn(*args)
            finally:
                rest(min(1.0, time.perf_counter() - t0))
        return unknown.apply(duty)
    return run_known, run_unknown


def write_path(db, clock, auth=None, shared=None, spawn=None, sync_estimates=False,
               compute=None, group_commit: str = "auto"):
    """The commands and the read model they keep, without any server around them
    (the app factory, the race test's worker processes, the replay)."""
    from .shared import SqlCounters
    auth = auth or Auth(db, clock)
    shared = shared or SqlCounters(db, clock)
    projections = Projections(db, clock, spawn=spawn)
    estimator = Estimator(projections, clock, spawn=spawn, sync=sync_estimates, compute=compute)
    projections.listeners.append(estimator.on_batch)
    limiters = {
        "pairing": Limiter(shared, clock, "pairing", 20, 60.0),
        "tracking": Limiter(shared, clock, "tracking", 10, 600.0),
        # a kiosk's lookups, counted per kiosk: many visitors type there, some badly
        "tracking_kiosk": Limiter(shared, clock, "tracking-kiosk", 60, 600.0),
    }
    groups = group_commit != "off"  # "auto": on with both databases (commands/writer.py)
    commands = Commands(Writer(db, clock, projections, groups=groups), estimator, auth,
                        PrintingConfig.load(), limiters["pairing"])
    return commands, limiters


def _is_site(settings) -> bool:
    from . import sites
    return sites.site_config(settings.var_dir) is not None


def _branches(settings) -> list[dict]:
    """What to seed: a site's own branch as the centre sent it (run.py site-join), else
    the configuration file."""
    from . import sites
    if sites.site_config(settings.var_dir) is not None:
        return sites.seed_branches(settings.var_dir)
    return load_config(settings.config_path)


def _site(tabour, settings) -> None:
    """A site that works offline: its link to the centre, and its own tracking numbers
    (its tag first: they never meet the centre's or another site's)."""
    from functools import partial

    from . import sites
    from .dossiers import tracking
    link = sites.SiteLink.from_var(tabour, settings.var_dir)
    if link is None:
        return
    tabour.site = link
    tabour.commands.new_tracking = partial(tracking.new, tag=link.tag)
    with tabour.db.read() as conn:
        from .db.sites_schema import site_link
        from sqlalchemy import select
        known = conn.execute(select(site_link.c.branch_id)).first()
    if known is None:
        tabour.commands.link_site(link.branch_id, link.centre, link.tag)


def _dossiers(tabour, settings, clock):
    """Dossier drop-off and tracking: config/dossiers.toml next to the branches."""
    from .dossiers import types
    from .readmodel.dossiers import DossierQueries, id_key
    path = settings.config_path.parent / "dossiers.toml"
    if not path.exists():  # a branches file elsewhere (tests, a custom TABOUR_CONFIG)
        path = Path(__file__).resolve().parent.parent / "config" / "dossiers.toml"
    config = types.load(Path(os.environ.get("TABOUR_DOSSIERS", path)))
    return DossierQueries(tabour.db, clock, config, id_key(settings.var_dir),
                          tabour.limiters["tracking"])


def _init_displays(app, tabour, settings) -> None:
    """Staff console, wall displays, announcements and serial counter displays."""
    from display.web import bp as display_bp

    from .announcements import Announcer
    from .console import bp as console_bp
    from .serial_counters import SerialCounters

    app.register_blueprint(console_bp)
    app.register_blueprint(display_bp)
    synthesize = None
    if settings.async_mode == "gevent":
        from display.announce.worker import SynthesisWorker
        synthesize = SynthesisWorker(settings.var_dir / "audio").start().audio
    tabour.announcer = Announcer(tabour, settings.var_dir / "audio", synthesize).register()
    try:
        branches = load_config(settings.config_path)
    except Exception as exc:  # seeding reported it already when it matters
        log.warning("serial counter displays not started: %s", exc)
        branches = []
    tabour.serial_counters = SerialCounters(tabour.fanout, tabour.commands, tabour.db,
                                            branches=branches)
    if settings.serial_now:
        tabour.serial_counters.configure(branches)
