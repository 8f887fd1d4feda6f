"""Counter commands: open, pause, resume, close."""
from __future__ import annotations

from ..engine import lifecycle
from ..engine.errors import NotFound
from ..engine.model import Actor, Counter, TicketStatus


class CounterCommands:
    writer: object

    def counter_action(self, branch_id: int, counter_number: int, action: str, actor: Actor,
                       agent_user_id: int | None = None) -> Counter:
        """open / pause / close. Closing sends the tickets aimed at the counter, and the
        ones parked there, back to the front of their service's queue."""
        def step(uow, p):
            row = p.counter_row(counter_number)
            if row is None:
                raise NotFound("counter_not_found", counter=counter_number)
            change = lifecycle.counter_action(row.counter, action, uow.now, actor)
            who = agent_user_id if action == "open" else (None if action == "close" else False)
            uow.record(change, None, row, who)
            if action == "close":
                mine = [t for t in p.index.tickets.values()
                        if t.target_counter_id == row.counter.id] + \
                       [t for t in p.live.values()
                        if t.status is TicketStatus.PARKED and t.counter_id == row.counter.id]
                for ch in lifecycle.requeue_targeted(mine, row.counter, uow.now, actor):
                    before = next(t for t in mine if t.id == ch.ticket.id)
                    uow.record(ch, before, None)
            return uow.counters[row.counter.id].counter
        # at a counter: under the branch's lock on PostgreSQL (commands/writer.py)
        return self.writer.run(branch_id, step, exact=self.writer.lock_first, group=True)[0]
