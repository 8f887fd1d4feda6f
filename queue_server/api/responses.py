"""What the /api/v1 routes answer, as pydantic models: the OpenAPI document's response
schemas (a fuzzer checks every answer against them, tests/integration/api/test_fuzz.py).

Shapes come from the presenters (readmodel/presenters.py and readmodel/dossiers.py own
them); these models only describe them. Fields a client relies on are required; an
answer may carry more (``additionalProperties`` stays open so a new field is never a
breaking change). Times are ISO 8601 in the branch's zone, or null when not yet.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Names = dict[str, str]  # a name per language code
Time = str | None  # ISO 8601 with the branch's offset, null when it did not happen


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- health, auth --------------------------------------------------------------------------

class HealthOut(Out):
    status: Literal["ok", "degraded"]
    database: bool


class SignedInUser(Out):
    username: str
    role: Literal["agent", "manager", "admin"]
    display_name: str
    branch_id: int


class TokenOut(Out):
    token: str = Field(description="send it as Authorization: Bearer <token>")
    user: SignedInUser


# --- services, tickets, counters ---------------------------------------------------------

class ServiceOut(Out):
    prefix: str
    names: Names
    icon: str | None
    target_wait_minutes: int | None
    active: bool
    closed_today: bool
    cutoff: str | None = Field(description="HH:MM local, or null")
    open: bool = Field(description="a visitor may take a ticket now")
    counters_open: int
    waiting: int
    estimated_wait_minutes: int | None


class ServicesOut(Out):
    services: list[ServiceOut]


class TicketOut(Out):
    id: int
    code: str
    service: str | None
    status: str
    priority: str
    channel: str | None
    language: str
    day: str
    issued_at: Time
    called_at: Time
    started_at: Time
    finished_at: Time
    counter: int | None
    recall_count: int
    recycled: bool
    transfer_count: int
    outcome: str | None
    people_ahead: int | None = Field(description="while waiting")
    estimated_wait_minutes: int | None


SEQ_AFTER = ("the branch's event sequence this answer reflects: the counter's console "
             "shows its next counter_queue push at or past it")


class TicketActionOut(TicketOut):
    """A counter's action on its ticket (call-next, start, finish, ...)."""
    seq: int = Field(description=SEQ_AFTER)


class EventOut(Out):
    seq: int
    type: str
    at: Time
    actor: str | None
    data: dict[str, Any] | None


class TicketEventsOut(Out):
    events: list[EventOut]


class CurrentTicketOut(Out):
    id: int
    code: str
    status: str
    service: str | None


class CounterOut(Out):
    number: int
    name: str
    state: str
    services: list[str] = Field(description="prefixes, in the order served")
    current_ticket: CurrentTicketOut | None
    since: Time


class CounterActionOut(CounterOut):
    """A counter opened, paused, resumed or closed."""
    seq: int = Field(description=SEQ_AFTER)


class CountersOut(Out):
    counters: list[CounterOut]


# --- staff and devices ----------------------------------------------------------------------

class UserCreatedOut(Out):
    id: int
    username: str
    role: str


class DeviceTokenOut(Out):
    token: str = Field(description="shown once")
    token_id: int
    role: Literal["kiosk", "display", "printer"]
    name: str


class RevokedOut(Out):
    revoked: int


class PairingCodeOut(Out):
    code: str = Field(description="shown once")
    role: Literal["kiosk", "display"]
    minutes: int
    expires_at: Time


class PairedOut(Out):
    token: str
    token_id: int
    name: str
    printer: str | None = None


class KioskOut(Out):
    token_id: int
    name: str
    printer: str | None
    revoked: bool


class KiosksOut(Out):
    kiosks: list[KioskOut]


class PrinterOut(Out):
    name: str
    state: str
    connected: bool
    detail: str | None
    last_seen_at: Time = None


class PrinterWithJobsOut(PrinterOut):
    pending_jobs: int


class PrintersOut(Out):
    printers: list[PrinterWithJobsOut]


class KioskMeOut(Out):
    name: str
    printer: str | None
    printer_state: PrinterOut


class JobOut(Out):
    job_id: str
    printer: str | None
    ticket_id: int | None
    kind: str
    status: str
    attempts: int
    error: str | None


class JobsOut(Out):
    jobs: list[JobOut]


class ReprintOut(Out):
    job: JobOut


class KioskTicketOut(Out):
    ticket: TicketOut
    public_ref: str | None
    url: str | None = Field(description="the phone page (the QR code's address)")
    qr: str | None
    print: JobOut | None
    printer: PrinterOut
    service_names: Names


# --- dossiers -------------------------------------------------------------------------------

class DocumentOut(Out):
    code: str
    names: Names


class DossierTypeOut(Out):
    code: str
    names: Names
    documents: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]


class DossierTypesOut(Out):
    types: list[DossierTypeOut]
    identity: dict[str, Any]


class DossierCheckOut(Out):
    type: str
    insured: str = Field(description="masked")
    missing: list[DocumentOut]
    deadlines: list[dict[str, Any]]
    late: bool


class PublicDossierOut(Out):
    tracking: str
    display: str
    type: str
    type_names: Names
    status: str
    insured: str = Field(description="masked")
    deposited_at: Time
    updated_at: Time
    missing: list[DocumentOut]


class DossierOut(PublicDossierOut):
    id: int
    channel: str | None
    day: str
    ticket_id: int | None


class DossierPrintOut(Out):
    job: JobOut
    printer: PrinterOut


class DepositOut(Out):
    dossier: DossierOut
    url: str
    qr: str
    print: DossierPrintOut | None


class DossierListOut(Out):
    dossiers: list[DossierOut]
    next: int | None = Field(description="?before= of the next (older) page, null at the end")


class DossierCountsOut(Out):
    day: str
    deposited_today: int
    by_type: dict[str, Any]
    by_status: dict[str, Any]
    open: dict[str, Any]


class DossierStaffOut(DossierOut):
    documents: list[DocumentOut]
    declared: list[DocumentOut]


class DossierOpenedOut(DossierStaffOut):
    history: list[dict[str, Any]]


class TransitionOut(Out):
    dossier: DossierStaffOut


# --- reports, dashboard ---------------------------------------------------------------------

class ReportOut(Out):
    branch: dict[str, Any]
    from_: str = Field(alias="from")
    to: str
    grain: Literal["hour", "day", "week"]
    days: int
    totals: dict[str, Any]
    periods: list[Any]
    services: list[Any]
    breakdowns: dict[str, Any]
    charts: dict[str, Any]


class TodayOut(Out):
    day: str
    generated_at: Time
    totals: dict[str, Any]
    services: list[Any]
    counters: list[Any]
    hours: list[Any]


class BranchOut(Out):
    code: str
    names: Names
    timezone: str
    languages: list[str]
    display_languages: list[str]
    day: str
    outcomes: list[str]


class AlertOut(Out):
    id: int
    kind: str
    key: str
    open: bool
    raised_at: Time
    cleared_at: Time
    acknowledged_at: Time
    acknowledged_by: str | None
    data: dict[str, Any] | None
    messages: Names


class AlertsOut(Out):
    alerts: list[AlertOut]


class DashboardOut(Out):
    seq: int
    branch: BranchOut
    live: dict[str, Any]
    today: dict[str, Any] | None
    alerts: list[AlertOut]


# --- administration -------------------------------------------------------------------------

class AdminServiceOut(Out):
    prefix: str
    names: Names
    active: bool
    counters: list[int]


class ZoneOut(Out):
    name: str
    services: list[str]
    counters: list[int]


class ScheduleOut(Out):
    weekly: dict[str, list[list[str]]] | None = Field(
        description="opening intervals per weekday; null: no hours set")
    special: list[dict[str, Any]]


class PolicyOut(Out):
    pause_alert_minutes: int


class AdminOverviewOut(Out):
    branch: BranchOut
    may: dict[str, Any]
    services: list[AdminServiceOut]
    counters: list[CounterOut]
    zones: list[ZoneOut]
    schedule: ScheduleOut
    policy: PolicyOut


class HistoryEntryOut(Out):
    seq: int
    type: str
    at: Time
    actor: str | None
    data: dict[str, Any] | None


class HistoryOut(Out):
    history: list[HistoryEntryOut]


class ZonesOut(Out):
    zones: list[ZoneOut]


class AdminUserOut(Out):
    id: int
    username: str
    display_name: str | None
    role: str
    active: bool
    created_at: Time
    may_manage: bool
    yourself: bool


class AdminUsersOut(Out):
    users: list[AdminUserOut]


class UserStateOut(Out):
    id: int
    active: bool


class PasswordChangedOut(Out):
    id: int
    password_changed: bool


class AdminDeviceOut(Out):
    token_id: int
    role: str
    name: str
    created_at: Time
    revoked: bool
    last_seen_at: Time
    connected: bool
    printer: PrinterOut | None


class AdminDevicesOut(Out):
    devices: list[AdminDeviceOut]


class DisplayLinkOut(DeviceTokenOut):
    zone: str | None
    url: str = Field(description="the address to open on the TV (carries the token)")


# --- sessions, one's own account (auth_routes.py) --------------------------------------------

class SignedOutOut(Out):
    signed_out: bool


class OwnPasswordOut(Out):
    password_changed: bool
    sessions_ended: int | list[Any] | None = None


class SessionOut(Out):
    token_id: int
    user_id: int
    username: str
    role: str
    created_at: Time
    expires_at: Time
    yours: bool


class SessionsOut(Out):
    sessions: list[SessionOut]


# --- supervisors ------------------------------------------------------------------------------

class SupervisorOut(Out):
    view: str
    now: Time
    scope: dict[str, Any] | list[Any] | None


# --- offline sites (sync_routes.py) -----------------------------------------------------------

class SyncStateOut(Out):
    branch: str
    acked_seq: int | None
    cursor: int | None
    centre_now: str


class SyncBatchOut(Out):
    acked_seq: int | None
    warnings: list[Any]


class SyncDownOut(Out):
    """The site's configuration, staff and the centre's decisions (shape: readmodel/sync.py)."""
    branch: str
    acked_seq: int | None
    cursor: int | None
    config: dict[str, Any]
    users: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    revoked_site_tokens: list[Any]


class SiteCredentialOut(Out):
    branch: str
    token: str = Field(description="shown once")
    token_id: int
    tag: str | None


class SiteRevokedOut(Out):
    revoked: int
    branch: str


class SiteDeviceOut(Out):
    site_token_id: int
    role: str
    name: str
    revoked: bool


class SiteDevicesOut(Out):
    devices: list[SiteDeviceOut]


class SiteDeviceAskedOut(Out):
    asked: int
    branch: str


class SiteOverviewOut(Out):
    branch: str
    acked_seq: int | None


class SitesOut(Out):
    sites: list[SiteOverviewOut]


class SiteStatusOut(Out):
    site: bool


class SiteSyncOut(Out):
    result: Any
    status: SiteStatusOut


class DocumentsBroughtOut(Out):
    tracking: str
    missing: list[Any]
    declared: list[Any]
