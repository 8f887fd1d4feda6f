"""Dossier drop-off: types as data, a pure lifecycle, identity checks, tracking
numbers, deadline rules (pure modules), and the service functions and storage
that use them (``commands.py``, ``store.py``)."""
