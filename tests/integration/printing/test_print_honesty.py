"""Printing that cannot lie: a ticket shown as printed was printed, and no job is
dropped silently.

- the reproduction of the field report: two fresh databases (a reset, a restore, the
  move to PostgreSQL), one printer agent spool; the second day's first ticket prints;
- a job id the agent knows, with other content: refused and reported, never printed;
- a printer switched off for five minutes: its jobs wait, are never "printed" before
  they are, print when it is back, or fail after the configured time;
- a job no agent takes: "not taken" after the configured time, with a message;
- a copy reprinted at reception: marked, and audited;
- an agent re-pointed at a second server mid-day: the first server's paper still prints,
  the second refuses to count it.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from printers.agent import Agent
from queue_server.db import schema
from support import virtual_printers as vp
from support.api import Api
from support.app import ADMIN_PASSWORD
from support.kiosk_printing import Bridge, make_app, take


def _paired_kiosk(api: Api, printer: str) -> Api:
    api.open(1)
    code = api.post("/kiosk/pairing-codes", {"kiosk_name": "entrance",
                                             "printer": printer}).get_json()["code"]
    return api.as_token(api.as_token(None).post("/kiosk/pair", {"code": code})
                        .get_json()["token"])


def _open_alerts(api: Api, kind: str) -> list[str]:
    return [a["key"] for a in api.get("/dashboard/alerts").get_json()["alerts"]
            if a["kind"] == kind and a["open"]]


def _jobs(api: Api) -> dict:
    return {j["job_id"]: j for j in api.get("/print-jobs").get_json()["jobs"]}


def test_a_second_fresh_database_prints_on_the_same_agent_spool(tmp_path, tcp_printer, clock):
    """Field report: after a database reset the new day's first job was 't1' again;
    the spool knew 't1' as printed, printed nothing, and the server said printed."""
    printer = tcp_printer(vp.ONLINE)
    spool = tmp_path / "agent" / "spool.sqlite"  # one agent, one spool, two databases
    codes = []
    for day in ("first", "second"):
        app = make_app(f"sqlite:///{tmp_path / f'{day}.sqlite'}", clock)
        api = Api(app).login("admin", ADMIN_PASSWORD)
        kiosk = _paired_kiosk(api, "hall")
        bridge = Bridge(api, "hall")
        ticket = take(kiosk, f"tap-{day}-0001")["ticket"]
        agent = Agent("hall", printer.config, spool, report=bridge.report, status_timeout=0.5)
        [msg] = bridge.pending_messages()
        assert agent.receive(msg) == "queued"
        before = len(printer.received)
        assert agent.work_once() == 1
        printed = vp.decode(printer.received[before:], 576)
        assert ticket["code"] in printed.text_lines, printed.text_lines  # its own receipt
        job = _jobs(api)[msg["job_id"]]
        assert job["status"] == "printed"  # confirmed: the printer said all is well after
        codes.append((msg["job_id"], ticket["code"]))
        agent.close()
        app.extensions["tabour"].db.dispose()
    (first_id, first_code), (second_id, second_code) = codes
    assert first_code == second_code == "A-001"  # each database starts its day again...
    assert first_id != second_id  # ...but a job's id is unique everywhere (random)


def test_a_known_job_id_with_other_content_is_refused_and_reported(tmp_path, tcp_printer,
                                                                     clock):
    """Server A's job printed; server B (another database) sends a job with the same id
    and another ticket: the agent refuses it, tells B, and prints nothing for it."""
    printer = tcp_printer(vp.ONLINE)
    spool = tmp_path / "spool.sqlite"
    servers = []
    for name in ("a", "b"):
        app = make_app(f"sqlite:///{tmp_path / f'{name}.sqlite'}", clock)
        api = Api(app).login("admin", ADMIN_PASSWORD)
        servers.append((app, api, _paired_kiosk(api, "hall"), Bridge(api, "hall")))
    (app_a, api_a, kiosk_a, bridge_a), (app_b, api_b, kiosk_b, bridge_b) = servers
    take(kiosk_a, "tap-reuse-000a")
    [msg_a] = bridge_a.pending_messages()
    agent = Agent("hall", printer.config, spool, report=bridge_a.report)
    assert agent.receive(msg_a) == "queued"
    assert agent.receive(msg_a) == "duplicate"  # the same job again (a reconnect): once
    assert agent.work_once() == 1
    api_b.post("/counters/1/open")
    api_b.issue("A")
    take(kiosk_b, "tap-reuse-000b")  # A-002 on B
    with api_b.tabour.db.write() as conn:  # B's job gets A's id (what a clash would be)
        conn.execute(schema.print_jobs.update().values(job_id=msg_a["job_id"]))
    [msg_b] = bridge_b.pending_messages()
    assert msg_b["document"]["code"] == "A-002" and msg_b["job_id"] == msg_a["job_id"]
    agent.report = bridge_b.report
    printed_before = printer.received
    assert agent.receive(msg_b) == "refused"
    refusal = [p for e, p in bridge_b.reports if p.get("status") == "refused"]
    assert refusal and "already used for another document" in refusal[0]["error"]
    assert _jobs(api_b)[msg_b["job_id"]]["status"] == "refused"
    assert _jobs(api_a)[msg_a["job_id"]]["status"] == "printed"
    assert agent.work_once() == 0 and printer.received == printed_before  # nothing for B
    agent.close()
    for app, *_ in servers:
        app.extensions["tabour"].db.dispose()


def test_a_printer_off_for_five_minutes(api, tmp_path, tcp_printer):
    """Jobs wait (retrying, never "printed"), print when the printer is back; another
    waits past the agent's max age and fails with the reason. The kiosk sees it."""
    printer = tcp_printer(vp.ONLINE)
    kiosk = _paired_kiosk(api, "hall")
    bridge = Bridge(api, "hall")
    now = [1_000_000.0]
    agent = Agent("hall", printer.config, tmp_path / "spool.sqlite", report=bridge.report,
                  status_timeout=0.3, backoff_base_s=5, backoff_max_s=30, max_age_s=600,
                  clock=lambda: now[0])
    printer.power_off()
    first = take(kiosk, "tap-off-00001")["ticket"]
    [msg] = bridge.pending_messages()
    agent.receive(msg)
    statuses = []
    for _minute in range(5):  # five minutes off: the agent keeps trying
        assert agent.check_status().state == "offline"
        agent.work_once(now=now[0])
        statuses.append(_jobs(api)[msg["job_id"]]["status"])
        now[0] += 60
    assert set(statuses) == {"retrying"}, statuses
    me = kiosk.get("/kiosk/me").get_json()
    assert me["printer_state"]["state"] == "offline"  # the kiosk's banner says so
    assert _open_alerts(api, "printer") == ["hall"]  # and the managers' alert list
    printer.power_on()
    assert agent.check_status().state == "online"  # back: waiting jobs are due at once
    assert _open_alerts(api, "printer") == []  # cleared by itself
    assert agent.work_once(now=now[0]) == 1
    assert first["code"] in vp.decode(printer.received, 576).text_lines
    assert _jobs(api)[msg["job_id"]]["status"] == "printed"
    # off again, for longer than the agent's max age: the job fails, with why
    printer.power_off()
    take(kiosk, "tap-off-00002")
    msg2 = [m for m in bridge.pending_messages() if m["job_id"] != msg["job_id"]][0]
    agent.receive(msg2)
    agent.check_status()
    agent.work_once(now=now[0])
    now[0] += 601
    agent.work_once(now=now[0])
    job = _jobs(api)[msg2["job_id"]]
    assert job["status"] == "failed" and "not printed within 600 s" in job["error"]
    agent.close()
    printer.power_on()


def test_paper_out_after_printing_is_not_printed(api, tmp_path, tcp_printer):
    """The bytes went out, but the printer says the paper ran out: the ticket waits for
    paper and prints when the roll is changed; it is never reported printed before."""
    printer = tcp_printer(vp.ONLINE)
    kiosk = _paired_kiosk(api, "hall")
    bridge = Bridge(api, "hall")
    now = [1_000_000.0]
    agent = Agent("hall", printer.config, tmp_path / "spool.sqlite", report=bridge.report,
                  status_timeout=0.3, backoff_base_s=5, clock=lambda: now[0])
    agent.check_status()
    take(kiosk, "tap-paper-0001")
    [msg] = bridge.pending_messages()
    agent.receive(msg)
    printer.responder.answers = vp.PAPER_OUT  # the roll ends during this ticket
    assert agent.work_once(now=now[0]) == 0
    assert _jobs(api)[msg["job_id"]]["status"] == "waiting_paper"
    printer.responder.answers = vp.ONLINE  # a new roll
    agent.check_status()
    assert agent.work_once(now=now[0]) == 1
    assert _jobs(api)[msg["job_id"]]["status"] == "printed"
    agent.close()


def test_a_file_printer_cannot_confirm(api, tmp_path):
    kiosk = _paired_kiosk(api, "files")
    bridge = Bridge(api, "files")
    take(kiosk, "tap-file-00001")
    [msg] = bridge.pending_messages()
    agent = Agent("files", {"type": "file", "directory": str(tmp_path / "receipts")},
                  tmp_path / "spool.sqlite", report=bridge.report)
    agent.receive(msg)
    assert agent.work_once() == 1
    assert _jobs(api)[msg["job_id"]]["status"] == "printed_unconfirmed"
    # the files carry the job's unique id: a receipt file is matched to its ticket
    assert (tmp_path / "receipts" / f"{msg['job_id']}.bin").exists()
    assert (tmp_path / "receipts" / f"{msg['job_id']}.png").exists()
    agent.close()


def test_a_job_no_agent_takes_is_not_taken_and_said_so(app, api, clock):
    from support.sio import inbox
    kiosk = _paired_kiosk(api, "nobody")
    sio = app.extensions["tabour"].socketio.test_client(
        app, auth={"token": kiosk.token, "view": "kiosk", "lang": "ar"})
    inbox(sio).wait("snapshot")
    body = take(kiosk, "tap-nobody-001")
    job_id = body["print"]["job_id"]
    t = app.extensions["tabour"]
    assert t.commands.sweep_printing(1) == 0  # not yet: the agent may be starting
    assert 1 not in t.commands.branches_to_sweep()  # the round skips the branch
    clock.advance(seconds=t.printing.take_timeout_s + 1)
    assert t.commands.branches_to_sweep() == [1]  # the one branch with a job overdue
    assert t.commands.sweep_printing(1) == 1
    job = _jobs(api)[job_id]
    assert job["status"] == "not_taken" and "within 120 seconds" in job["error"]
    (changed,) = inbox(sio).wait("print_job_changed", predicate=lambda p: p["job_id"] == job_id)
    assert changed["status"] == "not_taken"
    assert t.commands.sweep_printing(1) == 0  # said once
    assert t.commands.branches_to_sweep() == []
    # the managers' alert list says it, in their languages, with the visitor's code
    alerts = [a for a in api.get("/dashboard/alerts").get_json()["alerts"]
              if a["kind"] == "print_job" and a["key"] == job_id]
    assert len(alerts) == 1 and alerts[0]["open"]
    code = body["ticket"]["code"]
    assert code in alerts[0]["messages"]["fr"] and "nobody" in alerts[0]["messages"]["fr"]
    assert "\u2068" + code + "\u2069" in alerts[0]["messages"]["ar"]  # isolated in Arabic
    # an agent that connects later does not print it behind the visitor's back
    bridge = Bridge(api, "nobody")
    assert bridge.pending_messages() == []


def test_a_copy_is_reprinted_at_reception_and_audited(api, tmp_path, tcp_printer):
    printer = tcp_printer(vp.ONLINE)
    kiosk = _paired_kiosk(api, "hall")
    bridge = Bridge(api, "hall")
    ticket = take(kiosk, "tap-copy-00001")["ticket"]
    agent = Agent("hall", printer.config, tmp_path / "spool.sqlite", report=bridge.report)
    [msg] = bridge.pending_messages()
    agent.receive(msg)
    agent.work_once()
    agent_user = api.user("amina", "agent")
    r = agent_user.post(f"/tickets/{ticket['id']}/reprint", {})
    assert r.status_code == 200, r.get_json()
    copy_id = r.get_json()["job"]["job_id"]
    [again] = [m for m in bridge.pending_messages() if m["job_id"] == copy_id]
    assert again["document"]["copy"] is True and again["document"]["code"] == ticket["code"]
    agent.receive(again)
    printer.clear()
    assert agent.work_once() == 1
    text = " ".join(vp.decode(printer.received, 576).text_lines)
    assert "COPIE" in text or "COPY" in text, text
    with api.tabour.db.read() as conn:
        audit = conn.execute(select(schema.events).where(
            schema.events.c.type == "print_reprinted")).first()
    assert audit.actor == "user:amina" and audit.data["original_job"] == msg["job_id"]
    assert agent_user.post("/tickets/999/reprint", {}).status_code == 404
    kiosk_refused = kiosk.post(f"/tickets/{ticket['id']}/reprint", {})
    assert kiosk_refused.status_code == 403  # a kiosk cannot reprint
    agent.close()


def test_an_agent_pointed_at_a_second_server_mid_day(tmp_path, tcp_printer, clock):
    """Mid-day the agent is re-pointed from server A to server B (a failover, a new
    database) with one of A's jobs still in its spool: that paper is still printed for
    A's visitor; B, which never issued it, refuses the report with the job's id (it is
    not counted as B's); B's own jobs print and are confirmed on B."""
    printer = tcp_printer(vp.ONLINE)
    spool = tmp_path / "spool.sqlite"
    servers = []
    for name in ("a", "b"):
        app = make_app(f"sqlite:///{tmp_path / f'{name}.sqlite'}", clock)
        api = Api(app).login("admin", ADMIN_PASSWORD)
        servers.append((app, api, _paired_kiosk(api, "hall"), Bridge(api, "hall")))
    (_, api_a, kiosk_a, bridge_a), (_, api_b, kiosk_b, bridge_b) = servers
    refused: list[tuple[str, str]] = []

    def to_b(event: str, payload: dict) -> None:  # what the socket link does: an answer
        try:
            bridge_b.report(event, payload)
        except Exception as exc:  # the refusal the server sends back in its ack
            refused.append((payload.get("job_id"), getattr(exc, "code", str(exc))))

    now = [1_000_000.0]
    agent = Agent("hall", printer.config, spool, report=bridge_a.report, status_timeout=0.3,
                  backoff_base_s=5, clock=lambda: now[0])
    printer.power_off()
    ticket_a = take(kiosk_a, "tap-move-000a")["ticket"]
    [msg_a] = bridge_a.pending_messages()
    assert agent.receive(msg_a) == "queued"
    agent.check_status()
    agent.work_once(now=now[0])
    assert _jobs(api_a)[msg_a["job_id"]]["status"] == "retrying"
    agent.report = to_b  # re-pointed: from now on it speaks to B
    api_b.issue("A")  # B's kiosk ticket is A-002: the two papers can be told apart
    ticket_b = take(kiosk_b, "tap-move-000b")["ticket"]
    [msg_b] = bridge_b.pending_messages()
    assert agent.receive(msg_b) == "queued"
    printer.power_on()
    agent.check_status()
    now[0] += 60
    assert agent.work_once(now=now[0]) == 2
    text = vp.decode(printer.received, 576).text_lines
    assert (ticket_a["code"], ticket_b["code"]) == ("A-001", "A-002")
    assert ticket_a["code"] in text and ticket_b["code"] in text  # both papers came out
    assert _jobs(api_b)[msg_b["job_id"]]["status"] == "printed"
    assert (msg_a["job_id"], "unknown_job") in refused  # B never counts A's job
    assert msg_a["job_id"] not in _jobs(api_b)
    assert _jobs(api_a)[msg_a["job_id"]]["status"] == "retrying"  # A was not told: honest
    agent.close()
    for app, *_ in servers:
        app.extensions["tabour"].db.dispose()
