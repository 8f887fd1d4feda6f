"""Request bodies, validated with pydantic. Messages say what to send instead."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Lang = Literal["ar", "fr", "en"]  # staff pages and reports
# what a visitor may choose (a ticket, a deposit, a service name): Tamazight too
VisitorLang = Literal["ar", "fr", "en", "zgh"]


# a row id: what the database's INTEGER holds (a larger one is a 400, not an overflow)
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TokenIn(Strict):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class IssueTicketIn(Strict):
    service: str = Field(min_length=1, max_length=3, description="service prefix, e.g. 'A'")
    priority: bool | Literal["elderly", "disabled", "pregnant"] = Field(
        False, description="true, or the reason: elderly, disabled, pregnant")
    language: VisitorLang = "ar"
    channel: Literal["kiosk", "counter", "api", "phone"] | None = None
    idempotency_key: str | None = Field(None, min_length=8, max_length=80,
                                        description="the same key never issues two tickets")


class TicketRef(Strict):
    ticket_id: Id | None = Field(None, description="defaults to the counter's current ticket")


class FinishIn(TicketRef):
    outcome: str = Field(min_length=1, max_length=40)
    note: str | None = Field(None, max_length=500)


class TransferIn(TicketRef):
    service: str | None = Field(None, min_length=1, max_length=3)
    counter: int | None = Field(None, ge=1, le=100_000)

    @model_validator(mode="after")
    def one_target(self):
        if (self.service is None) == (self.counter is None):
            raise ValueError("give either 'service' or 'counter' to transfer to, not both")
        return self


class ReturnIn(Strict):
    ticket_id: Id


class CancelIn(Strict):
    reason: str = Field("", max_length=200)


class EmptyIn(Strict):
    pass


class ServicePatch(Strict):
    names: dict[VisitorLang, Annotated[str, Field(min_length=1, max_length=120)]] | None = Field(
        None, description="merged with the present names")
    target_wait_minutes: int | None = Field(None, ge=1, le=600)
    icon: str | None = Field(None, min_length=1, max_length=40)
    active: bool | None = None
    closed_today: bool | None = Field(None, description="closed for this branch day only")
    cutoff: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                               description="HH:MM local: after it visitors get no ticket of "
                                           "this service today; null removes it")

    def changes(self) -> dict:
        """What was sent: ``cutoff: null`` removes the cut-off; other nulls mean "keep"."""
        sent = self.model_dump(exclude_unset=True)
        return {k: v for k, v in sent.items() if v is not None or k == "cutoff"}


class UserIn(Strict):
    username: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Literal["agent", "manager", "admin"]
    display_name: str = Field("", max_length=120)


class DeviceIn(Strict):
    role: Literal["kiosk", "display", "printer"]
    name: str = Field(min_length=1, max_length=120)


class ReprintIn(Strict):
    printer: str | None = Field(None, min_length=1, max_length=120,
                                description="where to print the copy (default: the printer of "
                                            "the original)")


# --- query parameters (documented in the OpenAPI document; the views read request.args) ---

class BranchQuery(Strict):
    branch: str | None = Field(None, min_length=1, max_length=40,
                               description="a branch code; only the caller's own is accepted")
