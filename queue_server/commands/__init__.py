"""The write path: every change to a branch goes through a command here.

A command loads what it needs from the branch's projection, calls the pure
engine, and commits the state, its events and any outbox row (a print job) in
ONE transaction (``writer.py``, ``uow.py``); after the commit the batch reaches
the read model and the fan-out. A command never raises an HTTP error: it raises
domain errors with a code.

One module per area: tickets, counters, printing, pairing, dossiers, admin, alerts,
retention (purging personal data past its period).
"""
from __future__ import annotations

from .admin import AdminCommands
from .alerts import AlertCommands
from .counters import CounterCommands
from .dossiers import DossierCommands, Deposited
from .pairing import PairingCommands, TooManyAttempts
from .printing import PrintingCommands
from .retention import RetentionCommands
from .sync import SyncCommands
from .tickets import Issued, PrintTarget, TicketCommands
from .writer import Writer

__all__ = ["Commands", "Deposited", "Issued", "PrintTarget", "TooManyAttempts", "Writer"]


class Commands(TicketCommands, CounterCommands, PrintingCommands, PairingCommands,
               DossierCommands, AdminCommands, AlertCommands, RetentionCommands,
               SyncCommands):
    def __init__(self, writer: Writer, estimator, auth, printing, pairing_limiter,
                 dossiers=None):
        self.writer = writer
        self.estimator = estimator
        self.auth = auth
        self.printing = printing  # PrintingConfig
        self.pairing_limiter = pairing_limiter
        self.dossiers = dossiers  # readmodel.dossiers.DossierQueries

    @property
    def stats(self):
        return self.writer.stats
