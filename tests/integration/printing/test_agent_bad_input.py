"""Bad input at the printer agent: a printer that answers garbage or nothing, one
that is unreachable (jobs survive an agent restart), a job for another printer,
text wider than the paper. A clear message, nothing lost."""
from __future__ import annotations

import logging
import socket

import pytest

from queue_server.engine.errors import DomainError

from printers import TicketPrint, render_ticket
from printers.agent import Agent
from printers.blocks import ImageBlock, TextBlock
from printers.native_text import columns
from support import virtual_printers as vp
from support.kiosk_printing import Bridge, take


def _agent(bridge, config, path, **kw):
    return Agent(bridge.principal.name, config, path, report=bridge.report,
                 status_timeout=0.3, backoff_base_s=0.01, backoff_max_s=0.01, **kw)


def _printer_state(api, name):
    return {p["name"]: p for p in api.get("/printers").get_json()["printers"]}[name]


def test_printer_answering_garbage_is_unknown_and_still_prints(api, kiosk_for, tcp_printer,
                                                               tmp_path, caplog):
    printer = tcp_printer(vp.GARBAGE)
    bridge = Bridge(api, "garbage")
    take(kiosk_for("garbage"), "tap-garbage-01")
    agent = _agent(bridge, printer.config, tmp_path / "spool.sqlite")
    with caplog.at_level(logging.WARNING):
        assert agent.check_status().state == "unknown"
    assert "fixed-bit" in caplog.text  # the agent's log says what came back
    assert _printer_state(api, "garbage")["state"] == "unknown"
    [msg] = bridge.pending_messages()
    agent.receive(msg)
    assert agent.work_once() == 1  # unknown is not a reason to hold tickets back
    agent.close()


def test_printer_answering_nothing_is_offline_and_keeps_its_jobs(api, kiosk_for, tcp_printer,
                                                                 tmp_path):
    printer = tcp_printer(None)  # takes bytes, never answers the status query
    bridge = Bridge(api, "silent")
    take(kiosk_for("silent"), "tap-silent-001")
    agent = _agent(bridge, printer.config, tmp_path / "spool.sqlite")
    status = agent.check_status()
    assert status.state == "offline" and "no answer" in status.detail
    assert _printer_state(api, "silent")["state"] == "offline"
    [msg] = bridge.pending_messages()
    agent.receive(msg)
    assert agent.work_once() == 0
    job = api.get("/print-jobs").get_json()["jobs"][0]
    assert job["status"] == "retrying" and "offline" in job["error"]  # kept, not printed
    printer.responder.answers = vp.ONLINE
    agent.check_status()
    assert agent.work_once() == 1
    agent.close()


def test_unreachable_printer_keeps_jobs_across_an_agent_restart(api, kiosk_for, tcp_printer,
                                                               tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bridge = Bridge(api, "unplugged")
    take(kiosk_for("unplugged"), "tap-unplug-001")
    spool = tmp_path / "spool.sqlite"
    agent = _agent(bridge, {"type": "network", "host": "127.0.0.1", "port": port, "timeout": 0.3},
                   spool)
    [msg] = bridge.pending_messages()
    agent.receive(msg)
    assert agent.work_once() == 0
    job = api.get("/print-jobs").get_json()["jobs"][0]
    assert job["status"] == "retrying" and "refused the connection" in job["error"]
    agent.close()  # the agent stops (a restart, a power cut)

    printer = tcp_printer(vp.ONLINE)  # the printer is plugged back on another port
    agent = _agent(bridge, printer.config, spool)
    assert [j.job_id for j in agent.spool.pending()] == [msg["job_id"]]  # still there
    assert agent.receive(msg) == "duplicate"  # the server re-sends it on reconnect: kept once
    assert agent.work_once() == 1
    assert api.get("/print-jobs").get_json()["jobs"][0]["status"] == "printed"
    assert agent.receive(msg) == "duplicate"  # sent again: re-reported, not printed twice
    assert printer.received.count(msg["document"]["code"].encode()) == 1
    agent.close()


def test_a_job_for_another_printer_is_refused_with_a_clear_message(api, kiosk_for, tcp_printer,
                                                                   tmp_path, caplog):
    printer = tcp_printer()
    bridge = Bridge(api, "counter-printer")
    take(kiosk_for("counter-printer"), "tap-other-0001")
    [msg] = bridge.pending_messages()
    other = Agent("hall-printer", printer.config, tmp_path / "spool.sqlite",
                  report=lambda e, p: bridge.reports.append((e, p)))
    with caplog.at_level(logging.ERROR):
        assert other.receive(msg) == "unknown_printer"
    assert "prints for 'hall-printer', not for printer 'counter-printer'" in caplog.text
    assert bridge.reports[-1][1]["status"] == "failed"
    assert other.spool.pending() == [] and printer.received == b""
    # the server only takes results for a printer's own jobs
    stranger = Bridge(api, "hall-printer")
    with pytest.raises(DomainError) as refused:
        stranger.commands.report_result(1, "hall-printer", msg["job_id"], "printed")
    assert refused.value.code == "unknown_job"
    assert api.get("/print-jobs").get_json()["jobs"][0]["status"] == "pending"
    other.close()


def test_text_wider_than_the_paper_is_wrapped_never_cut(tcp_printer, tmp_path):
    long_word = "Prestations" * 12
    doc = TicketPrint(
        branch_name={"fr": "Agence " + long_word, "ar": "وكالة " + "الحي الحسني " * 12},
        service_name={"fr": long_word, "ar": "التعويضات " * 15}, code="A-042",
        people_ahead=3, estimated_wait_minutes=12, issued_at_local="2026-11-23 09:41",
        qr_url="http://tabour.local/t/abc", languages=["fr", "ar"],
        header_lines=["X" * 200], footer_lines=[])
    for paper, width in (("58mm", 384), ("80mm", 576)):
        blocks = render_ticket(doc, paper)
        assert all(b.image.width <= width for b in blocks if isinstance(b, ImageBlock))
        assert all(len(b.text) * b.width_mult <= columns(width)
                   for b in blocks if isinstance(b, TextBlock))
        text = "".join(b.text for b in blocks if isinstance(b, TextBlock))
        assert text.count("Prestations") >= 24  # every word is there: wrapped, not cut
    printer = tcp_printer()
    agent = Agent("narrow", printer.config, tmp_path / "spool.sqlite", paper="58mm")
    agent.receive({"job_id": "wide-1", "printer": "narrow", "kind": "ticket",
                   "document": doc.__dict__})
    assert agent.work_once() == 1
    decoded = vp.decode(printer.wait_for(lambda d: b"A-042" in d), 384)
    assert decoded.text_block("A-042")
    agent.close()


def test_a_malformed_job_fails_at_once_with_its_reason(tmp_path, tcp_printer):
    reports = []
    agent = Agent("p", tcp_printer().config, tmp_path / "spool.sqlite",
                  report=lambda e, p: reports.append(p))
    agent.receive({"job_id": "bad-1", "printer": "p", "kind": "ticket", "document": {"code": 1}})
    assert agent.work_once() == 0
    assert reports[-1]["status"] == "failed" and "cannot be printed" in reports[-1]["error"]
    agent.close()
