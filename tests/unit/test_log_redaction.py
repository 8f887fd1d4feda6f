"""No tracking number or insured number in a log line (issue 12, defect 6): the filter
run.py puts on its log handlers, on the lines werkzeug's and gevent's access logs write."""
from __future__ import annotations

import io
import logging

from queue_server.private import RedactFilter, redact


def test_paths_and_queries_that_carry_personal_data_are_redacted():
    assert redact('"GET /d/ABCD2345 HTTP/1.1" 200') == '"GET /d/[redacted] HTTP/1.1" 200'
    assert redact("GET /d/abcd2345.json") == "GET /d/[redacted]"
    assert redact("GET /d/ABCD2345/qr.svg") == "GET /d/[redacted]/qr.svg"
    assert redact("GET /api/v1/public/dossiers/ABCD2345 200") == \
        "GET /api/v1/public/dossiers/[redacted] 200"
    assert redact("POST /api/v1/dossiers/ABCD2345/transitions") == \
        "POST /api/v1/dossiers/[redacted]/transitions"
    assert redact("GET /api/v1/dossiers?day=today&insured=123456782&limit=20") == \
        "GET /api/v1/dossiers?day=today&insured=[redacted]&limit=20"
    # what carries nothing personal is left as it is
    for line in ("POST /api/v1/dossiers/check", "GET /api/v1/dossiers/counts",
                 "GET /api/v1/dossiers?day=today", "GET /display/ 200", "GET /dashboard/"):
        assert redact(line) == line


def test_the_filter_rewrites_what_werkzeug_would_log():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactFilter())
    logger = logging.getLogger("werkzeug.test-redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        # werkzeug's access line: a format string and the request line as an argument
        logger.warning('%s - - [%s] "%s" %s %s', "127.0.0.1", "29/Nov/2026 10:00:00",
                       "GET /d/QWER7890?lang=ar HTTP/1.1", "200", "-")
        logger.warning("dossier search %s", "/api/v1/dossiers?insured=987654321")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert "QWER7890" not in text and "987654321" not in text
    assert text.count("[redacted]") == 2 and "?lang=ar" in text
