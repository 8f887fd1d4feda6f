"""The app factory: one Flask app, one Socket.IO server, everything bound here."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask_socketio import SocketIO

from . import i18n, sockets, web
from .api import bp as api_bp
from .api import errors
from .auth import Auth
from .clock import utcnow
from .commands import Commands
from .container import Tabour
from .db.database import Database
from .db.migrate import upgrade
from .fanout import FanOut
from .printjobs import PrintJobs
from .queries import Queries
from .seed import ensure_admin, load_config, seed
from .settings import Settings

log = logging.getLogger("tabour")


def create_app(settings: Settings | None = None, clock=utcnow) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    app.json.ensure_ascii = False  # Arabic names readable in responses
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    db = Database(settings.database_url)
    if settings.migrate:
        upgrade(db.engine)
        seed(db, load_config(settings.config_path))

    socketio = SocketIO(
        app, async_mode=settings.async_mode, message_queue=settings.message_queue,
        channel=settings.channel,
        logger=False, engineio_logger=False,
        ping_interval=10, ping_timeout=10,
    )
    queries = Queries(db, clock)
    fanout = FanOut(socketio, queries, settings.coalesce_s)
    auth = Auth(db, clock)
    commands = Commands(db, clock, fanout.publish)
    tabour = Tabour(db, auth, commands, queries, fanout, socketio, settings)
    app.extensions["tabour"] = tabour
    tabour.printjobs = PrintJobs(db, auth, queries, fanout, clock)
    tabour.dossiers = _dossiers(tabour, settings, clock)

    if settings.migrate:
        generated = ensure_admin(auth, db, settings.admin_password)
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
    app.register_blueprint(dashboard_bp)  # /dashboard/reports (the live dashboard later)
    _init_displays(app, tabour, settings)
    errors.register(app)
    tabour.sessions = sockets.register(socketio, tabour)
    tabour.printjobs.register_socket_events(socketio, tabour.sessions)

    @app.get("/")
    def index():
        """What this server offers, for branch IT opening it in a browser."""
        return jsonify({"name": "Tabour", "kiosk": "/kiosk/", "display": "/display/",
                        "console": "/console/", "backoffice": "/backoffice/",
                        "api": "/api/v1/openapi.json", "health": "/api/v1/health"})

    return app


def _dossiers(tabour, settings, clock):
    """Dossier drop-off and tracking (issue 5): config/dossiers.toml next to the branches."""
    from .dossiers import types
    from .dossiers.commands import Dossiers, id_key
    import os
    from pathlib import Path
    path = settings.config_path.parent / "dossiers.toml"
    if not path.exists():  # a branches file elsewhere (tests, a custom TABOUR_CONFIG)
        path = Path(__file__).resolve().parent.parent / "config" / "dossiers.toml"
    config = types.load(Path(os.environ.get("TABOUR_DOSSIERS", path)))
    return Dossiers(tabour.db, clock, tabour.fanout.publish, config, id_key(settings.var_dir),
                    tabour.printjobs).register(tabour.fanout)


def _init_displays(app, tabour, settings) -> None:
    """Staff console, wall displays, announcements and serial counter displays (issue 4)."""
    from display.web import bp as display_bp

    from .announcements import Announcer
    from .console import bp as console_bp
    from .serial_counters import SerialCounters

    app.register_blueprint(console_bp)
    app.register_blueprint(display_bp)
    synthesize = None
    if settings.async_mode == "gevent":
        from display.announce.worker import SynthesisWorker
        synthesize = SynthesisWorker().start().audio
    tabour.announcer = Announcer(tabour.fanout, tabour.queries, tabour.socketio,
                                 settings.var_dir / "audio", synthesize).register()
    try:
        branches = load_config(settings.config_path)
    except Exception as exc:  # seeding reported it already when it matters
        log.warning("serial counter displays not started: %s", exc)
        branches = []
    tabour.serial_counters = SerialCounters(tabour.fanout, tabour.commands, tabour.db) \
        .configure(branches)
