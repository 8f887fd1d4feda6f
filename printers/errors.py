"""Typed errors of the printing library, each with a message a person can act on."""


class PrintingError(Exception):
    """Base class of every error raised by ``printers``."""


class FontNotFoundError(PrintingError):
    """A font file the layout needs is not installed."""


class TextShapingUnavailable(PrintingError):
    """Neither Pillow's RAQM layout nor the arabic-reshaper/python-bidi fallback is available."""


class PrinterConfigError(PrintingError):
    """A printer entry in the configuration is wrong or needs a missing package."""


class PrinterError(PrintingError):
    """A printer could not be opened, written to or queried.

    ``printer`` is the configured printer name and ``where`` its address
    (host:port, device path, USB ids or directory), so a message can be shown as is.
    """

    def __init__(self, message: str, *, printer: str = "", where: str = "") -> None:
        super().__init__(message)
        self.printer = printer
        self.where = where


class PrinterUnreachable(PrinterError):
    """Nothing answered: connection refused or timed out, device missing."""


class PrinterWriteError(PrinterError):
    """The printer was reached but stopped taking data."""
