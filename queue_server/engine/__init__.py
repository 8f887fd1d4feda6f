"""The queue engine: pure Python, no framework imports, time passed in.

Tickets, services, counters, the lifecycle table, numbering per service per
branch day, the one ordering rule and the wait estimate. Functions here take
state and return new state plus events; they never read the clock, never touch
a database and never emit.
"""
from .errors import DomainError, InvalidTransition, NotFound, NotAllowed
from .model import (
    Actor, Counter, CounterState, Event, Policy, PriorityClass, Service,
    Ticket, TicketStatus,
)

__all__ = [
    "Actor", "Counter", "CounterState", "DomainError", "Event", "InvalidTransition",
    "NotAllowed", "NotFound", "Policy", "PriorityClass", "Service", "Ticket",
    "TicketStatus",
]
