"""Small builders for engine tests: no database, no clock."""
from datetime import datetime, timedelta, timezone

from queue_server.engine.model import (
    Actor, Counter, CounterState, Policy, PriorityClass, Service, Ticket, TicketStatus,
)

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
AGENT = Actor("user", 1, "agent1")
A = Service(1, "A", {"fr": "Allocations", "ar": "التعويضات", "en": "Allowances"})
B = Service(2, "B", {"fr": "Maladie", "ar": "المرض", "en": "Sickness"})
C = Service(3, "C", {"fr": "Pensions", "ar": "المعاشات", "en": "Pensions"})
DAY = "2026-11-23"


def counter(id=1, number=None, services=None, state=CounterState.OPEN, **kw):
    return Counter(id, number or id, f"Counter {number or id}", services or {1: 0},
                   state, **kw)


def ticket(id, service=A, minutes=0, priority=PriorityClass.NORMAL,
           status=TicketStatus.WAITING, day=DAY, **kw):
    at = T0 + timedelta(minutes=minutes)
    return Ticket(id=id, service_id=service.id, number=id or 99,
                  code=f"{service.prefix}-{id or 99:03d}",
                  day=day, status=status, priority=priority, channel="kiosk", language="fr",
                  issued_at=at, queued_at=kw.pop("queued_at", at), **kw)


def policy(**kw):
    return Policy(**kw)
