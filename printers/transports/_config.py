"""Reading printer config dicts with messages that name the printer and the key."""

from __future__ import annotations

from ..errors import PrinterConfigError


def required(config: dict, key: str, name: str):
    if config.get(key) in (None, ""):
        raise PrinterConfigError(f"Printer '{name}' (type {config.get('type')!r}) needs a '{key}' setting")
    return config[key]


def number(config: dict, key: str, name: str, default: float) -> float:
    value = config.get(key, default)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise PrinterConfigError(f"Printer '{name}': '{key}' must be a number, got {value!r}") from None
    if value <= 0:
        raise PrinterConfigError(f"Printer '{name}': '{key}' must be positive, got {value!r}")
    return value


def seconds(value: float) -> str:
    return f"{value:g} s"
