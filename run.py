"""Tabour: one entry point.

    python run.py                      run the server on the embedded default
    python run.py --host 0.0.0.0 --port 8080
    python run.py create-user NAME --role agent [--password ...]
    python run.py create-user NAME --role supervisor --region CODE [--region CODE2]
                                    (or --branches CODE,CODE, or --national)
    python run.py create-device --role kiosk --name "Kiosk entrance"
    python run.py pairing-code --role display --name "Hall TV"   a code typed on the device
    python run.py migrate              bring the database schema up to date
    python run.py replay --config B.toml --events DAY.csv --out ESTIMATES.csv
    python run.py export-events --branch CODE --day YYYY-MM-DD [--out DAY.csv]
    python run.py backup --to /var/backups/tabour/ [--keep 48]
    python run.py restore --from FILE  (the server stopped)
    python run.py site-register --branch CODE [--name NAME]   at the centre: a site's credential
    python run.py site-join --centre URL --token-file FILE    at the site: first contact
    python run.py sync                 at a site: sync with the centre now
    python run.py purge                anonymise personal data past its retention period

Environment: TABOUR_DATABASE_URL (default: SQLite in var/), TABOUR_MESSAGE_QUEUE
(redis://... to run several server processes), TABOUR_ADMIN_PASSWORD (the first
admin's password at first start; otherwise one is generated and printed once).
"""
from gevent import monkey

monkey.patch_all()  # before anything else imports socket, threading or ssl

import argparse  # noqa: E402
import getpass  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402


def _serve(args) -> int:
    from queue_server import gc_pauses, housekeeping
    from queue_server.app import create_app
    from queue_server.server import serve
    from queue_server.settings import Settings

    settings = Settings.from_env(async_mode="gevent", serial_now=False)
    app = create_app(settings)
    tabour = app.extensions["tabour"]
    _dump_on_sigusr2()
    tabour.socketio.start_background_task(housekeeping.run_forever, tabour)
    tabour.socketio.start_background_task(_refresh_estimates, tabour)
    # the managers' alerts (one process holds the lease) and their dashboards' clock
    tabour.socketio.start_background_task(tabour.dashboard.run_forever)
    if tabour.site is not None:  # a site: sync on a schedule and when the link returns
        tabour.socketio.start_background_task(tabour.site.run_forever, tabour.socketio.sleep)
    # the collector scans only young objects: no 100+ ms full collections mid-day
    tabour.gc_pauses = gc_pauses.start(tabour)

    def ready(port: int) -> None:
        shown = "localhost" if args.host in ("0.0.0.0", "::", "127.0.0.1") else args.host
        base = f"http://{shown}:{port}"
        db = "SQLite " + settings.database_url.split("///", 1)[-1] \
            if settings.database_url.startswith("sqlite") else "PostgreSQL"
        pages = [(label, base + path) for label, path in (
            ("Kiosk", "/kiosk/"), ("Wall display", "/display/"),
            ("Counter console", "/console/"), ("Back office", "/backoffice/"),
            ("Dashboard", "/dashboard/"), ("Administration", "/admin/"))
            if any(r.rule.startswith(path) for r in app.url_map.iter_rules())]
        lines = [f"Tabour is running ({db}"
                 f"{', message queue ' + settings.message_queue if settings.message_queue else ''})",
                 *(f"  {label:<16} {url}" for label, url in pages),
                 f"  {'API':<16} {base}/api/v1/docs  (OpenAPI: {base}/api/v1/openapi.json)",
                 f"  {'Health':<16} {base}/api/v1/health",
                 *_first_contact(tabour, settings, base),
                 "Sign in as 'admin' with the password printed at first start (or "
                 "TABOUR_ADMIN_PASSWORD);",
                 f"  curl -X POST {base}/api/v1/auth/token -H 'Content-Type: application/json' "
                 "-d '{\"username\":\"admin\",\"password\":\"...\"}'",
                 "Ctrl+C stops the server."]
        print("\n".join(lines), flush=True)
        tabour.socketio.start_background_task(
            _one_owner, tabour, {
                # the serial counter displays: one process opens the ports
                "serial-ports": lambda: tabour.serial_counters.configure(),
                # the embedded printer agent: one per deployment, or jobs print twice
                "embedded-printer-agent": lambda: agents.append(
                    _start_printer_agent(tabour, settings, args.host, port)),
            })

    agents = []
    try:
        serve(app, args.host, args.port, ready)
    finally:
        tabour.commands.writer.log_stats(force=True)  # the last figures, for the bench
        for agent in agents:
            if agent is not None and agent.poll() is None:
                agent.terminate()
    return 0


def _first_contact(tabour, settings, base: str) -> list[str]:
    """What a newcomer needs to see a kiosk and a display at once: on the embedded default
    (SQLite, one process), a one-time pairing code for each kind of device not paired yet,
    typed on its page. Never a token: a log and an address are not secret."""
    lines = []
    embedded = settings.database_url.startswith("sqlite") and not settings.message_queue
    branches = tabour.branch_ids()
    if embedded and branches:
        from queue_server.engine.model import SYSTEM
        try:
            made = tabour.commands.first_contact_codes(branches[0], SYSTEM)
        except Exception:  # a banner never stops the server
            logging.getLogger("tabour").exception("could not make first pairing codes")
            made = {}
        for role, label, path in (("kiosk", "Kiosk", "/kiosk/"),
                                  ("display", "Display", "/display/")):
            if role in made:
                lines.append(f"  {label} pairing code {made[role]['code']}: type it on "
                             f"{base}{path} (valid {made[role]['minutes']} min, once)")
    lines.append("  More kiosks or displays: python run.py pairing-code --role kiosk|display "
                 "--name NAME")
    return lines


def _one_owner(tabour, work: dict, every_s: float = 10.0) -> None:
    """Work one process of the deployment does: whoever holds the lease starts it and
    keeps the lease; another process takes over when the holder is gone (the lease
    lapses after 30 s without renewal)."""
    started: set[str] = set()
    log = logging.getLogger("tabour.leases")
    while True:
        for name, start in work.items():
            try:
                if tabour.leases.hold(name) and name not in started:
                    started.add(name)
                    log.info("this process holds %s: starting it", name)
                    start()
            except Exception:  # the database is away: next round
                log.exception("lease %s", name)
        tabour.socketio.sleep(every_s)


def _refresh_estimates(tabour, every_s: float = 15.0) -> None:
    """Quiet hours: nothing happens, but time passes; the forecasts follow."""
    while True:
        tabour.socketio.sleep(every_s)
        try:
            tabour.estimator.refresh_all()
        except Exception:
            logging.getLogger("tabour.estimates").exception("refresh failed")


def _start_printer_agent(tabour, settings, host, port):
    """The printer agent beside the server (config/printing.toml [agent]): with no
    printer configured it "prints" each ticket to var/receipts/ as PNG + raw .bin."""
    from printers.agent_launcher import spawn
    from queue_server.printer_agents import embedded_agent_token
    cfg = tabour.printing
    branches = tabour.branch_ids()
    if not cfg.agent_enabled or not branches:
        return None
    token_file = embedded_agent_token(tabour, branches[0], settings.var_dir)
    local = "127.0.0.1" if host in ("0.0.0.0", "127.0.0.1", "localhost") else host
    proc = spawn(f"http://{'[' + local + ']' if ':' in local else local}:{port}", token_file,
                 name=cfg.agent_printer, transport=cfg.agent_transport,
                 var_dir=settings.var_dir, paper=cfg.paper, max_age_s=cfg.agent_max_age_s,
                 status_every_s=cfg.agent_status_every_s)
    where = (cfg.agent_transport or {}).get("type", "file") if cfg.agent_transport \
        else f"files in {settings.var_dir / 'receipts'}"
    print(f"  Printer agent    '{cfg.agent_printer}' printing to {where} "
          f"(log {settings.var_dir / 'printer-agent.log'})", flush=True)
    return proc


def _tabour():
    from queue_server.app import create_app
    from queue_server.settings import Settings
    return create_app(Settings.from_env(async_mode="threading")).extensions["tabour"]


def _branch_id(tabour, code):
    from queue_server.db import repo
    with tabour.db.read() as conn:
        branches = repo.load_branches(conn)
    if code is None:
        return branches[0].id
    for b in branches:
        if b.code == code:
            return b.id
    sys.exit(f"No branch '{code}': known branches are {', '.join(b.code for b in branches)}")


def _scope(args):
    """A supervisor's scope from --region / --branches / --national (exactly one kind)."""
    from queue_server.auth import Scope
    regions = [r for r in (args.region or []) if r]
    branches = [b.strip() for b in (args.branches or "").split(",") if b.strip()]
    kinds = sum(bool(x) for x in (regions, branches, args.national))
    if args.role != "supervisor":
        if kinds:
            sys.exit("--region, --branches and --national are for --role supervisor")
        return None
    if kinds != 1:
        sys.exit("a supervisor watches one of: --region CODE (repeatable), --branches "
                 "CODE,CODE or --national")
    return Scope(args.national, frozenset(regions), frozenset(branches))


def _home_branch(tabour, args, scope) -> int:
    """A supervisor's account belongs to a branch of its scope (the first one)."""
    if args.branch or scope is None or scope.national:
        return _branch_id(tabour, args.branch)
    from queue_server.db import schema as s
    from sqlalchemy import select
    with tabour.db.read() as conn:
        rows = conn.execute(select(s.branches.c.id, s.branches.c.code, s.branches.c.region)
                            .order_by(s.branches.c.id)).all()
    for r in rows:
        if scope.covers(r.code, r.region):
            return r.id
    return _branch_id(tabour, None)


def _create_user(args) -> int:
    tabour = _tabour()
    scope = _scope(args)
    password = args.password or getpass.getpass(f"Password for {args.username}: ")
    try:
        uid = tabour.auth.create_user(_home_branch(tabour, args, scope), args.username,
                                      password, args.role, args.display_name or "", scope)
    except ValueError as exc:
        sys.exit(str(exc))
    except Exception as exc:  # the username is taken
        sys.exit(f"Could not create {args.username}: {exc.__class__.__name__}: "
                 "is the username already taken?")
    print(f"created {args.role} '{args.username}' (id {uid})"
          + (f", watching {scope.data()}" if scope is not None else ""))
    return 0


def _create_device(args) -> int:
    tabour = _tabour()
    token = tabour.auth.create_device(_branch_id(tabour, args.branch), args.role, args.name)
    print(f"{args.role} token for '{args.name}' (shown once, keep it on the device):\n{token}")
    return 0


def _pairing_code(args) -> int:
    from queue_server.engine.model import Actor
    tabour = _tabour()
    made = tabour.commands.create_pairing_code(
        _branch_id(tabour, args.branch), args.name, args.printer, Actor("system", None, "cli"),
        role=args.role)
    page = "/kiosk/" if args.role == "kiosk" else "/display/"
    print(f"{args.role} pairing code for '{args.name}': {made['code']}\n"
          f"type it on {page} of the {args.role} within {made['minutes']} minutes (once).")
    return 0


def _migrate(_args) -> int:
    _tabour()
    print("database is up to date")
    return 0


def _replay(args) -> int:
    from pathlib import Path

    from queue_server.replay import ReplayError, replay, write_estimates
    try:
        events = Path(args.events).read_text(encoding="utf-8")
        rows = replay(Path(args.config), events)
    except ReplayError as exc:
        sys.exit(f"replay: {args.events}: {exc}")
    except OSError as exc:
        sys.exit(f"replay: {exc}")
    write_estimates(Path(args.out), rows)
    print(f"{len(rows)} tickets replayed; estimates in {args.out}")
    return 0


def _export_events(args) -> int:
    from pathlib import Path

    from queue_server.replay import ReplayError, export_day
    tabour = _tabour()
    try:
        text = export_day(tabour.db, args.branch, args.day)
    except ReplayError as exc:
        sys.exit(f"export-events: {exc}")
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
def _site_register(args) -> int:
    tabour = _tabour()
    from queue_server.engine.model import Actor
    made = tabour.commands.register_site(_branch_id(tabour, args.branch), args.name,
                                         Actor("system", None, "cli"))
    if args.token_file:
        from queue_server.sites import _write_private
        from pathlib import Path
        _write_private(Path(args.token_file), made["token"])
        print(f"site '{args.branch}' (tag {made['tag']}): its credential is in {args.token_file}")
    else:
        print(f"site '{args.branch}' (tag {made['tag']}): its credential (shown once):\n"
              f"{made['token']}")
    return 0


def _site_join(args) -> int:
    import os
    from pathlib import Path

    from queue_server import sites
    from queue_server.settings import Settings
    settings = Settings.from_env(async_mode="threading")
    token = Path(args.token_file).read_text(encoding="utf-8").strip()
    try:
        down = sites.join(settings.var_dir, args.centre, token)
    except sites.SyncFailed as exc:
        sys.exit(f"site-join: {exc}")
    except Exception as exc:  # the centre is unreachable
        sys.exit(f"site-join: cannot reach the centre at {args.centre}: {exc}")
    tabour = _tabour()
    tabour.commands.apply_down(tabour.site.branch_id, down, sites.SYNC_ACTOR)
    url = settings.database_url
    if url.startswith("sqlite:///"):  # the site's laptop holds personal data: owner only
        path = Path(url.split("///", 1)[1])
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if p.exists():
                os.chmod(p, 0o600)
    print(f"joined the centre {args.centre} as site '{down['branch']}' (tag {down['tag']}); "
          f"{len(down['users'])} staff accounts")
    return 0


def _sync(_args) -> int:
    import json

    from queue_server.sites import SyncFailed
    tabour = _tabour()
    if tabour.site is None:
        sys.exit("This server is not a site: run.py site-join --centre URL --token-file FILE")
    try:
        result = tabour.site.sync()
    except SyncFailed as exc:
        sys.exit(f"sync stopped: {exc}")
    print(json.dumps(result, ensure_ascii=False))
    for w in result.get("warnings", []):
        print(f"warning: {w['message']}", file=sys.stderr)
    return 0


def _purge(args) -> int:
    """Anonymise the personal data past its retention period (config/retention.toml),
    in every branch; each branch's purge is an audited event."""
    from queue_server.engine.model import Actor
    from queue_server.retention import RetentionError, load
    try:
        retention = load(args.config)
    except (OSError, RetentionError) as exc:
        sys.exit(f"purge: {exc}")
    tabour = _tabour()
    actor = Actor("system", None, "purge")
    # the var dirs' files (receipts, the agent's spool) are counted with the first branch
    var_dirs = args.var_dir or [tabour.settings.var_dir]
    for i, branch_id in enumerate(tabour.branch_ids()):
        for var_dir in (var_dirs if i == 0 else [None]):
            counts = tabour.commands.purge_personal_data(branch_id, retention, actor, var_dir)
            where = f" ({var_dir})" if var_dir and len(var_dirs) > 1 else ""
            print(f"branch {branch_id}{where}: "
                  + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print("retention (days): " + ", ".join(f"{k} {v}" for k, v in retention.as_dict().items()))
    return 0


def _database_url() -> str:
    from queue_server.settings import Settings
    return Settings.from_env(async_mode="threading").database_url


def _backup(args) -> int:
    from deploy.backup import BackupError, backup, describe
    url = _database_url()
    if args.keep and not args.to.is_dir():
        sys.exit("--keep needs --to to be a folder (a timestamped file is made inside)")
    try:
        path = backup(url, args.to, args.keep)
    except BackupError as exc:
        sys.exit(f"backup failed: {exc}")
    print(f"backed up {describe(url)} to {path} ({path.stat().st_size} bytes)")
    return 0


def _restore(args) -> int:
    from deploy.backup import BackupError, describe, restore
    url = _database_url()
    what = (f"This REPLACES everything in {describe(url)} with the backup {args.source}:\n"
            "whatever was done after that backup is lost. Stop every server process first.")
    if not args.yes:
        if not sys.stdin.isatty():
            sys.exit(what + "\nRun again with --yes to go ahead.")
        if input(what + "\nType yes to go ahead: ").strip().lower() != "yes":
            sys.exit("nothing was changed")
    try:
        kept = restore(url, args.source)
    except BackupError as exc:
        sys.exit(f"restore failed: {exc}")
    print(f"restored {describe(url)} from {args.source}"
          + (f"; the database it replaced is kept as {kept}" if kept else ""))
    print("Start the server: it brings the schema up to date if the backup is older.")
    return 0


def _dump_on_sigusr2() -> None:
    """``kill -USR2 PID``: every greenlet's stack into the log (a stalled process:
    what each request waits for)."""
    import signal

    import gevent
    from gevent.util import format_run_info

    def dump():
        logging.getLogger("tabour.dump").warning("greenlets:\n%s", "\n".join(format_run_info()))
    gevent.signal_handler(signal.SIGUSR2, dump)


def main(argv=None) -> int:
    import os
    from queue_server.private import UMASK
    os.umask(UMASK)  # what the server and its printer agent create is owner-only
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from queue_server.private import redact_logs
    redact_logs()  # no tracking number or insured number in any log line
    parser = argparse.ArgumentParser(prog="run.py", description="Tabour queue server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    sub = parser.add_subparsers(dest="command")
    u = sub.add_parser("create-user", help="create a staff account")
    u.add_argument("username")
    u.add_argument("--role", choices=["agent", "manager", "admin", "supervisor"], required=True)
    u.add_argument("--password", help="prompted for when omitted")
    u.add_argument("--display-name")
    u.add_argument("--branch", help="branch code (default: the first branch)")
    u.add_argument("--region", action="append", help="supervisor: a region code of "
                   "config/branches.toml's [regions] (repeat for several)")
    u.add_argument("--branches", help="supervisor: branch codes, comma-separated")
    u.add_argument("--national", action="store_true", help="supervisor: every branch")
    d = sub.add_parser("create-device", help="create a kiosk, display or printer-agent token")
    d.add_argument("--role", choices=["kiosk", "display", "printer"], required=True)
    d.add_argument("--name", required=True)
    d.add_argument("--branch")
    pc = sub.add_parser("pairing-code", help="a one-time code a kiosk or a wall display types "
                                             "to pair (valid 15 minutes)")
    pc.add_argument("--role", choices=["kiosk", "display"], required=True)
    pc.add_argument("--name", required=True, help="the device's name, e.g. 'Hall TV'")
    pc.add_argument("--printer", help="kiosk: the printer of its tickets (default: the "
                                      "branch's printer)")
    pc.add_argument("--branch")
    sub.add_parser("migrate", help="bring the database schema up to date")
    r = sub.add_parser("replay", help="replay a branch day's event log through the real code "
                                      "and write what each ticket printed")
    r.add_argument("--config", required=True, help="a branch file (one [[branch]])")
    r.add_argument("--events", required=True, help="the event log (CSV)")
    r.add_argument("--out", required=True, help="where to write the estimates (CSV)")
    x = sub.add_parser("export-events", help="write a real branch day as an event log")
    x.add_argument("--branch", required=True, help="the branch code")
    x.add_argument("--day", required=True, help="the branch day, YYYY-MM-DD")
    x.add_argument("--out", help="a file (default: standard output)")
    from pathlib import Path
    b = sub.add_parser("backup", help="copy the database to a file (safe while the server runs)")
    b.add_argument("--to", type=Path, required=True,
                   help="a file, or an existing folder (a timestamped file is made inside)")
    b.add_argument("--keep", type=int, help="with a folder: keep only the newest N backups")
    rs = sub.add_parser("restore", help="replace the database with a backup (server stopped)")
    rs.add_argument("--from", dest="source", type=Path, required=True, help="the backup file")
    rs.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sr = sub.add_parser("site-register", help="at the centre: make a branch a site that works "
                                              "offline and print its credential")
    sr.add_argument("--branch", required=True, help="the site's branch code")
    sr.add_argument("--name", default="site")
    sr.add_argument("--token-file", help="write the credential to this file (owner only)")
    sj = sub.add_parser("site-join", help="at a site: first contact with the centre")
    sj.add_argument("--centre", required=True, help="the centre's address, http(s)://...")
    sj.add_argument("--token-file", required=True, help="the site's credential")
    sub.add_parser("sync", help="at a site: sync with the centre now")
    pg = sub.add_parser("purge", help="anonymise personal data past its retention period "
                                      "(config/retention.toml); audited")
    pg.add_argument("--config", type=Path, default=None,
                    help="the retention file (default: TABOUR_RETENTION or config/retention.toml)")
    pg.add_argument("--var-dir", type=Path, action="append", default=None,
                    help="where receipts and the printer agent's spool are (default: "
                         "TABOUR_VAR_DIR); repeat for several")
    args = parser.parse_args(argv)
    handler = {"create-user": _create_user, "create-device": _create_device,
               "migrate": _migrate, "replay": _replay, "pairing-code": _pairing_code,
               "export-events": _export_events,
               "backup": _backup, "restore": _restore, "purge": _purge,
               "site-register": _site_register, "site-join": _site_join,
               "sync": _sync}.get(args.command, _serve)
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
