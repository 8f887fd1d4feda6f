"""No tracking number or insured number in any log (issue 12, defect 6): a real server
process behind the deployment's nginx site (deploy/nginx); a dossier deposited, its
status page, its JSON, its QR code, a phone following it, the back office's search by
insured number and its opening. Then every log written (nginx's access and error logs,
the server's output, the printer agent's) is searched for both numbers."""
from __future__ import annotations

import time

import requests
import socketio

from deploy.topology import Nginx
from queue_server.dossiers import ids
from support.server import ServerProcess

PASSWORD = "logs-admin-pass"
INSURED = "87654321" + ids.luhn_digit("87654321")


def test_no_log_line_carries_a_tracking_or_insured_number(tmp_path):
    var = tmp_path / "var"
    server = ServerProcess(f"sqlite:///{tmp_path / 'tabour.sqlite'}", tmp_path / "server.log",
                           PASSWORD, TABOUR_VAR_DIR=str(var), TABOUR_TRUSTED_PROXIES="1").start()
    nginx = Nginx(tmp_path / "nginx", [f"127.0.0.1:{server.port}"])
    try:
        nginx.start()
        url = nginx.url
        r = requests.post(f"{url}/api/v1/auth/token", timeout=10,
                          json={"username": "admin", "password": PASSWORD})
        h = {"Authorization": f"Bearer {r.json()['token']}"}
        kiosk = requests.post(f"{url}/api/v1/devices", headers=h, timeout=10,
                              json={"role": "kiosk", "name": "entrance"}).json()["token"]
        r = requests.post(f"{url}/api/v1/dossiers", headers={"Authorization": f"Bearer {kiosk}"},
                          timeout=10, json={"type": "old_age_pension", "insured_number": INSURED,
                                            "national_id": "BE123456", "documents": ["claim_form"],
                                            "language": "fr", "idempotency_key": "logs-0001"})
        assert r.status_code == 201, r.text
        tracking = r.json()["dossier"]["tracking"]
        for path in (f"/d/{tracking}", f"/d/{tracking.lower()}?lang=ar", f"/d/{tracking}.json",
                     f"/d/{tracking}/qr.svg", f"/api/v1/public/dossiers/{tracking}"):
            assert requests.get(url + path, timeout=10).status_code == 200, path
        assert requests.get(f"{url}/api/v1/dossiers?insured={INSURED}&day=today", headers=h,
                            timeout=10).status_code == 200
        assert requests.get(f"{url}/api/v1/dossiers/{tracking}", headers=h,
                            timeout=10).status_code == 200
        assert requests.post(f"{url}/api/v1/dossiers/{tracking}/transitions", headers=h,
                             timeout=10, json={"action": "receive"}).status_code == 200
        phone = socketio.Client(reconnection=False)
        phone.connect(url, auth={"view": "dossier", "dossier": tracking},
                      transports=["websocket"], wait_timeout=10)
        phone.disconnect()
        # a wrong guess and a missing page log their path too
        requests.get(f"{url}/d/ZZZZ9999", timeout=10)
        time.sleep(0.5)  # nginx writes its access log line after the answer
    finally:
        nginx.stop()
        server.stop()
    logs = [nginx.access_log, nginx.error_log, tmp_path / "server.log",
            *var.rglob("*.log")]
    access = nginx.access_log.read_text()
    assert access.count("[redacted]") >= 8, access  # the lines are there, the numbers not
    assert "/api/v1/dossiers/[redacted]/transitions" in access
    assert "insured=[redacted]&day=today" in access
    for log in logs:
        text = log.read_text(errors="replace")
        for secret in (tracking, tracking.lower(), INSURED, "ZZZZ9999"):
            assert secret not in text, f"{secret} in {log.name}"
