"""A kiosk ticket's print job through the agent to a serial printer on a pty pair:
the raster decoded back equals the rendered layout, and a paper-out answer to
the status query reaches the server's printer state."""
from __future__ import annotations

from support.kiosk_printing import Bridge, take
from printers import TicketPrint, render_image, render_ticket
from printers.agent import Agent
from printers.blocks import ImageBlock
from support import virtual_printers as vp
from support.pixels import same_pixels


def test_kiosk_ticket_through_a_serial_pty_decodes_back_to_the_layout(api, kiosk_for, pty_printer,
                                                                     tmp_path):
    printer = pty_printer(vp.ONLINE)
    bridge = Bridge(api, "serial-1")
    kiosk = kiosk_for("serial-1")
    issued = take(kiosk, "tap-serial-0001", language="ar")
    agent = Agent("serial-1", printer.config, tmp_path / "spool.sqlite", report=bridge.report)
    [msg] = bridge.pending_messages()
    assert agent.receive(msg) == "queued"
    assert agent.work_once() == 1
    blocks = render_ticket(TicketPrint(**msg["document"]), "80mm")
    # the cut, then the status query that confirms the ticket came out
    received = printer.wait_for(lambda d: b"\x1dVB\x00" in d or len(d) > 20000)
    decoded = vp.decode(received, 576)
    code = issued["ticket"]["code"]
    assert decoded.text_block(code).bold
    sent = [b.image for b in blocks if isinstance(b, ImageBlock)]
    assert len(sent) == len(decoded.images)
    assert all(same_pixels(a, b.image) for a, b in zip(sent, decoded.images, strict=True))
    assert same_pixels(render_image(decoded.blocks, "80mm"), render_image(blocks, "80mm"))
    job = api.get("/print-jobs").get_json()["jobs"][0]
    assert job["status"] == "printed" and job["printer"] == "serial-1"
    agent.close()


def test_paper_out_on_the_pty_reaches_the_server_and_the_job_waits(api, kiosk_for, pty_printer,
                                                                  tmp_path):
    printer = pty_printer(vp.PAPER_OUT)
    bridge = Bridge(api, "serial-2")
    kiosk = kiosk_for("serial-2")
    take(kiosk, "tap-serial-0002")
    agent = Agent("serial-2", printer.config, tmp_path / "spool.sqlite", report=bridge.report,
                  backoff_base_s=0.01, backoff_max_s=0.01)
    assert agent.check_status().state == "paper_out"
    state = {p["name"]: p for p in api.get("/printers").get_json()["printers"]}["serial-2"]
    assert state["state"] == "paper_out" and state["detail"] == "paper roll end"
    assert state["last_seen_at"].endswith("+01:00")  # the branch's zone (Casablanca)
    me = kiosk.get("/kiosk/me").get_json()
    assert me["printer_state"]["state"] == "paper_out"  # what the kiosk banner shows
    [msg] = bridge.pending_messages()
    agent.receive(msg)
    assert agent.work_once() == 0  # out of paper: kept, not printed, not lost
    assert api.get("/print-jobs?status=waiting_paper").get_json()["jobs"]
    printer.clear()
    printer.responder.answers = vp.ONLINE  # paper loaded
    assert agent.check_status().state == "online"
    assert agent.work_once() == 1
    assert api.get("/print-jobs").get_json()["jobs"][0]["status"] == "printed"
    assert ("printer_status", {"state": "online", "detail": ""}) in bridge.reports
    agent.close()
