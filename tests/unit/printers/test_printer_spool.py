"""The printer agent's durable job queue."""

import pytest

from printers.spool import ADDED, DIFFERENT, SAME, SCHEMA, Spool


class Clock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "var" / "printer-spool.sqlite"


def test_jobs_come_out_in_enqueue_order(path, clock):
    with Spool(path, clock=clock) as spool:
        for i in range(5):
            spool.enqueue(f"job-{i}", "kiosk-1", f"bytes {i}".encode())
            clock.t += 0.001
        assert [j.job_id for j in spool.due()] == [f"job-{i}" for i in range(5)]
        assert spool.due()[0].payload == b"bytes 0"


def test_pending_jobs_survive_a_restart(path, clock):
    spool = Spool(path, clock=clock)
    spool.enqueue("a", "kiosk-1", b"\x1b@A")
    spool.enqueue("b", "kiosk-1", {"code": "A-042", "languages": ["ar", "fr"]})
    spool.enqueue("c", "kiosk-2", b"C")
    spool.mark_printed("a")
    spool.close()  # the agent process ends

    reopened = Spool(path, clock=clock)
    pending = reopened.pending()
    assert [j.job_id for j in pending] == ["b", "c"]
    assert pending[0].payload == {"code": "A-042", "languages": ["ar", "fr"]}
    assert reopened.get("a").status == "printed"
    assert [j.job_id for j in reopened.due("kiosk-2")] == ["c"]
    reopened.close()


def test_enqueue_is_idempotent_and_refuses_a_reused_id(path, clock):
    with Spool(path, clock=clock) as spool:
        assert spool.enqueue("job-1", "kiosk-1", b"first") == ADDED
        assert spool.enqueue("job-1", "kiosk-1", b"first") == SAME  # re-sent after a reconnect
        # the same id for other bytes (another database, a restore): never taken for this job
        assert spool.enqueue("job-1", "kiosk-1", b"second") == DIFFERENT
        assert [(j.job_id, j.payload) for j in spool.pending()] == [("job-1", b"first")]
        spool.mark_printed("job-1")
        assert spool.enqueue("job-1", "kiosk-1", b"first") == SAME  # not printed twice
        assert spool.pending() == []


def test_an_old_spool_file_is_upgraded_in_place(path, clock):
    import sqlite3
    path.parent.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(str(path))
    old.executescript(SCHEMA.replace("'printed_unconfirmed', ", "")
                      .replace(",\n    content_hash    TEXT", ""))
    old.execute("INSERT INTO print_jobs (job_id, printer, payload, payload_kind, status, "
                "created_at, next_attempt_at) VALUES ('t1', 'kiosk-1', ?, 'bytes', 'printed', 0, 0)",
                (b"old ticket",))
    old.commit()
    old.close()
    with Spool(path, clock=clock) as spool:
        assert spool.enqueue("t1", "kiosk-1", b"a new ticket") == DIFFERENT
        assert spool.enqueue("t1", "kiosk-1", b"old ticket") == SAME
        spool.enqueue("j2", "kiosk-1", b"x")
        spool.mark_printed("j2", confirmed=False)
        assert spool.get("j2").status == "printed_unconfirmed"


def test_failed_attempt_waits_with_exponential_backoff(path, clock):
    with Spool(path, clock=clock, backoff_base_s=2, backoff_max_s=10) as spool:
        spool.enqueue("j", "kiosk-1", b"x")
        delays = []
        for _ in range(5):
            job = spool.retry_later("j", "Printer 'kiosk-1' did not answer")
            delays.append(job.next_attempt_at - clock.t)
            assert spool.due() == []
            clock.t = job.next_attempt_at
            assert [j.job_id for j in spool.due()] == ["j"]
        assert delays == [2, 4, 8, 10, 10]
        assert spool.get("j").attempts == 5
        assert spool.get("j").last_error == "Printer 'kiosk-1' did not answer"


def test_a_job_in_backoff_does_not_block_later_jobs(path, clock):
    with Spool(path, clock=clock) as spool:
        spool.enqueue("first", "kiosk-1", b"1")
        spool.enqueue("second", "kiosk-1", b"2")
        spool.retry_later("first", "paper out")
        assert [j.job_id for j in spool.due()] == ["second"]
        assert [j.job_id for j in spool.pending()] == ["first", "second"]


def test_too_many_attempts_fail_the_job(path, clock):
    with Spool(path, clock=clock, max_attempts=3) as spool:
        spool.enqueue("j", "kiosk-1", b"x")
        spool.retry_later("j", "offline")
        spool.retry_later("j", "offline")
        job = spool.retry_later("j", "offline")
        assert job.status == "failed" and "gave up after 3 attempts" in job.last_error


def test_jobs_older_than_max_age_are_failed_not_printed(path, clock):
    with Spool(path, clock=clock, max_age_s=300) as spool:
        spool.enqueue("old", "kiosk-1", b"x")
        spool.retry_later("old", "paper out")
        clock.t += 200
        spool.enqueue("new", "kiosk-1", b"y")
        clock.t += 101  # "old" is now 301 s old
        assert [j.job_id for j in spool.due()] == ["new"]
        old = spool.get("old")
        assert old.status == "failed"
        assert old.last_error == "paper out; not printed within 300 s"
        assert [j.job_id for j in spool.failed()] == ["old"]


def test_expiry_survives_a_restart(path, clock):
    Spool(path, clock=clock, max_age_s=60).enqueue("j", "kiosk-1", b"x")
    clock.t += 61
    with Spool(path, clock=clock, max_age_s=60) as spool:
        assert spool.expire() == ["j"]
        assert spool.get("j").status == "failed"


def test_mark_failed_keeps_the_reason_and_unknown_jobs_raise(path, clock):
    with Spool(path, clock=clock) as spool:
        spool.enqueue("j", "kiosk-1", b"x")
        spool.mark_failed("j", "Printer 'kiosk-1' cover open")
        assert spool.get("j").last_error == "Printer 'kiosk-1' cover open"
        with pytest.raises(KeyError):
            spool.mark_printed("j")
        with pytest.raises(KeyError):
            spool.retry_later("nope", "x")


def test_jobs_survive_a_process_that_dies_without_closing(path):
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import os, sys; from printers.spool import ADDED, DIFFERENT, SAME, SCHEMA, Spool\n"
        "s = Spool(sys.argv[1]); s.enqueue('t-1', 'kiosk-1', b'\\x1b@ticket'); s.enqueue('t-2', 'kiosk-1', b'x')\n"
        "s.mark_printed('t-2'); os._exit(0)  # no close, no cleanup\n"
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code, str(path)], cwd=root, check=True, timeout=20)
    with Spool(path) as spool:
        assert [(j.job_id, j.payload) for j in spool.pending()] == [("t-1", b"\x1b@ticket")]
        assert spool.get("t-2").status == "printed"
