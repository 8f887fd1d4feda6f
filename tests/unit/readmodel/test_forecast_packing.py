"""The forecast's input as it travels to the helper process (forecast_worker.py): the
waiting tickets' times go as POSIX seconds and come back the same instants, to the
microsecond, so the helper forecasts exactly the queue the server holds."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from queue_server.engine.forecast import ForecastInput
from queue_server.engine.model import Policy, PriorityClass, Ticket, TicketStatus
from queue_server.readmodel.forecast_worker import pack, unpack


def _ticket(i: int, issued: datetime, queued: datetime | None) -> Ticket:
    return Ticket(id=i, service_id=1 + i % 2, number=i, code=f"A{i:03d}", day="2026-11-30",
                  status=TicketStatus.WAITING, priority=list(PriorityClass)[i % 2],
                  channel="kiosk", language="ar", issued_at=issued, queued_at=queued,
                  front=i % 7 == 0, target_counter_id=3 if i % 5 == 0 else None)


def test_times_come_back_the_same_instants_to_the_microsecond():
    base = datetime(2026, 11, 30, 8, 0, 0, 999_999, tzinfo=timezone.utc)
    times = [base + timedelta(microseconds=k * 1_234_567) for k in range(500)]
    times += [datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc),
              datetime(2026, 3, 29, 2, 30, 0, 1, tzinfo=ZoneInfo("Africa/Casablanca"))]
    waiting = tuple(_ticket(i, at, at + timedelta(seconds=3) if i % 3 else None)
                    for i, at in enumerate(times))
    now = base + timedelta(hours=1)
    inp = ForecastInput(now=now, policy=Policy(), today="2026-11-30", services=(1, 2),
                        counters=(), waiting=waiting, learned=None)
    back = unpack(pack(inp))
    assert [(t.issued_at, t.queued_at) for t in back.waiting] == \
        [(t.issued_at, t.queued_at) for t in waiting]
    assert all(t.issued_at.tzinfo is not None for t in back.waiting)
    assert [(t.id, t.service_id, t.priority, t.front, t.target_counter_id)
            for t in back.waiting] == [(t.id, t.service_id, t.priority, t.front,
                                        t.target_counter_id) for t in waiting]


def test_a_time_without_a_zone_travels_as_it_is():
    """Stored times are aware (UTC); one without a zone would be read as the machine's
    local time by a POSIX conversion, so it goes as the datetime itself."""
    naive = datetime(2026, 11, 30, 9, 15, 0, 123_456)
    waiting = (_ticket(1, naive, None),)
    inp = ForecastInput(now=naive, policy=Policy(), today="2026-11-30", services=(1,),
                        counters=(), waiting=waiting, learned=None)
    (back,) = unpack(pack(inp)).waiting
    assert back.issued_at == naive and back.issued_at.tzinfo is None and back.queued_at is None
