"""Call announcements: a fan-out handler that makes the audio off the request path.

On ``ticket_called`` / ``ticket_recalled`` the handler only queues the call;
background workers build the WAV (display.announce: the chime, then the call said
from pieces spoken once by espeak-ng, cached under var/audio) and emit
``announcement`` {seq, kind, code, counter, service, audio_url, languages,
fell_back, duration_s} to the displays room, through the fan-out. ``LANES`` workers
a process, each with its queue, a branch always in the same one: a branch's calls
are announced in the order they were made, two calls in the same second both, a
recall again, and a slow announcement holds up only its lane. A call whose pieces
were all said before is assembled in the process (a millisecond); new pieces are
said by the helper process (display.announce.worker) under gevent.

Languages: the visitor's language first, then the branch's second display
language (the first one when the visitor already chose the second). A language
with no voice falls back (the chime alone when nothing can be spoken); the event
says so in ``fell_back``.

A display that was offline asks ``recent(branch, after_seq)`` (GET
/display/announcements) after it resyncs: only announcements younger than
``FRESH_S`` come back, so a short blip misses nothing and a long outage does not
replay stale calls. The announcements are kept in the database (a table every
server process shares), so a display that reconnects to another process gets
the same replay. The call is announced by the process that committed it.

A call whose process died before its audio was made (a SIGKILL 0.1 s after the call)
is announced late rather than never: when a display resyncs, ``catch_up`` announces
the calls of the last ``LATE_S`` seconds that have no announcement yet; and, for a
branch whose displays stayed connected to other processes, the deployment's
housekeeping (``overdue``) announces every call still without one ``OVERDUE_S`` after
it was made. The announcement row is the record: a process says its own call first and
records it after, so a process killed in between leaves no row and the call is said again
late (at least once: a display plays each seq once); a late announcement is said only
by the process whose row insert succeeds, so two processes catching up the same call do
not both say it.

Tamazight (zgh) has no espeak-ng voice: a Tamazight visitor's call is announced with
the chime and the branch's display languages that have a voice.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError

from display.announce.pieces import NotSaidYet

from .db import schema as s

log = logging.getLogger("tabour.announcements")

LANES = 4  # announcement workers a process (a branch's calls all go through one)
FRESH_S = 30.0
LATE_S = 120.0  # a call never announced (its process died) is still announced this late
OVERDUE_S = 15.0  # ... and is looked for by housekeeping once this old (announcements
                  # take milliseconds; a loaded process's lanes, seconds)
KEPT_S = 600.0  # rows older than this are deleted ...
PRUNE_S = 60.0  # ... by a process's announcement at most this often
_I_ANNOUNCEMENT = insert(s.announcements)
_D_OLD_ANNOUNCEMENTS = delete(s.announcements).where(
    s.announcements.c.made_at < bindparam("before"))


def voiced(lang: str | None) -> bool:
    """Whether announcements can speak ``lang`` (a phrase and an espeak-ng voice exist)."""
    from display.announce.phrases import supported_languages
    return lang in supported_languages()


def languages_for(visitor: str | None, display_languages: list[str]) -> list[str]:
    """The visitor's language, then the branch's second language. A visitor's language
    without a voice (Tamazight) gives the branch's display languages that have one."""
    if visitor and not voiced(visitor):
        spoken = [lang for lang in display_languages or [] if voiced(lang)]
        return spoken or [visitor]  # nothing to speak: the chime alone
    langs = [visitor] if visitor else []
    dl = list(display_languages or [])
    second = dl[1] if len(dl) > 1 else (dl[0] if dl else None)
    if second == visitor and dl:
        second = dl[0] if dl[0] != visitor else None
    if second and second not in langs:
        langs.append(second)
    return langs or dl[:1] or ["ar"]


class Announcer:
    def __init__(self, tabour, cache_dir: Path, synthesize=None):
        """``synthesize(code, counter, languages, cache_dir)`` makes the audio; the
        gevent server passes a helper process's (display.announce.worker) so the
        server never forks itself for espeak-ng while it delivers calls."""
        from display.announce import announcement_audio
        self.synthesize = synthesize or announcement_audio
        # a call whose pieces were all said before is assembled here (a millisecond,
        # no espeak-ng, no helper round trip); only new pieces go to the helper
        self.assemble = partial(announcement_audio, said_only=True)
        self.tabour = tabour
        self.fanout = tabour.fanout
        self.socketio = tabour.socketio
        self.cache_dir = Path(cache_dir)
        # one queue a lane, a branch always in the same lane: its calls are announced
        # in order, and a slow announcement (new pieces, a slow transaction) holds up
        # only its lane
        self._queues: list[queue.Queue] = [queue.Queue() for _ in range(LANES)]
        self._lock = threading.Lock()
        self._worker_started = False
        # (branch, seq) -> when it was queued late (catch_up, overdue): not queued twice;
        # forgotten once older than what a catch-up looks back (LATE_S), so a process
        # that lives for months does not keep every late call it ever said
        self._caught: dict = {}
        self._pruned_at = None  # when this process last deleted the old announcements
        self.produced = 0

    def register(self) -> "Announcer":
        self.fanout.on("ticket_called", self._on_call)
        self.fanout.on("ticket_recalled", self._on_call)
        return self

    # --- fan-out handler: runs in the request; only queues ----------------------

    def _on_call(self, _fanout, branch_id, seq, event) -> None:
        self.submit(branch_id, seq, event)

    def submit(self, branch_id: int, seq: int, event, late: bool = False) -> None:
        self._queues[branch_id % LANES].put((branch_id, seq, event, time.monotonic(), late))
        self._ensure_worker()

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker_started:
                return
            self._worker_started = True
        self.socketio.start_background_task(self._start)

    def _start(self) -> None:
        from display.announce import warm_up
        try:
            warm_up()  # the chime, espeak-ng's voices: once, not in the first call
        except Exception:
            log.exception("announcement warm-up failed")
        for lane in self._queues:
            self.socketio.start_background_task(self._work, lane)

    # --- the workers ---------------------------------------------------------------

    def _work(self, lane: queue.Queue) -> None:
        while True:
            try:
                item = lane.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.announce(*item)
            except Exception:  # never let one bad call stop the announcements
                log.exception("announcement failed for event %s", item[1])

    def _display_languages(self, branch_id: int) -> list[str]:
        return list(self.tabour.view(branch_id).branch.display_languages) or ["ar", "fr"]

    def announce(self, branch_id: int, seq: int, event, queued_at: float | None = None,
                 late: bool = False) -> dict:
        """Make the call's audio and say it to the branch's displays, and record it.
        ``late``: a call this process did not make (``catch_up``, ``overdue``)."""
        data = event.data
        langs = languages_for(data.get("language"), self._display_languages(branch_id))
        try:
            audio = self.assemble(data["code"], data["counter_number"], langs, self.cache_dir)
        except NotSaidYet:
            audio = self.synthesize(data["code"], data["counter_number"], langs, self.cache_dir)
        payload = {
            "seq": seq, "kind": "recalled" if event.type == "ticket_recalled" else "called",
            "code": data["code"], "counter": data["counter_number"],
            "service": self.fanout.prefix(branch_id, event.service_id),
            "audio_url": audio_url(audio.path.name, branch_id, data["code"],
                                   data["counter_number"], langs),
            "languages": list(audio.languages_spoken), "requested_languages": langs,
            "fell_back": audio.fell_back, "duration_s": round(audio.duration_s, 2),
        }
        if audio.fell_back:
            payload["reason"] = audio.reason
        if late:
            # a call another process should have announced: said only if nobody has
            if not self._keep(branch_id, seq, payload):
                return payload  # announced already (another process caught it up first)
            self._emit(branch_id, payload)
            return payload
        # this process's own call: said first, recorded after. A process killed in
        # between leaves no row, and the call is said again by housekeeping (a display
        # plays each seq once); recorded first, it would leave a row that was never said
        self._emit(branch_id, payload)
        self._keep(branch_id, seq, payload)
        return payload

    def _emit(self, branch_id: int, payload: dict) -> None:
        self.produced += 1
        self.fanout.to_displays(branch_id, "announcement", payload, payload["service"],
                                payload["counter"])

    def catch_up(self, branch_id: int, within_s: float = LATE_S) -> int:
        """Announce the branch's calls of the last ``within_s`` seconds that have no
        announcement (their process died before the audio was made), when one of its
        displays resyncs. Returns how many were queued."""
        now = self.tabour.now()
        return self._late([branch_id], now - timedelta(seconds=within_s), now)

    def overdue(self, older_than_s: float = OVERDUE_S, within_s: float = LATE_S) -> int:
        """Announce every branch's calls made between ``within_s`` and ``older_than_s``
        seconds ago that still have no announcement: their process died with them in
        its lanes. A display of the branch that stayed connected to another process
        never resyncs, so ``catch_up`` alone would leave them unsaid. One read for the
        whole deployment; run by one process (housekeeping's lease holder). Returns
        how many were queued."""
        now = self.tabour.now()
        return self._late(None, now - timedelta(seconds=within_s),
                          now - timedelta(seconds=older_than_s))

    def _late(self, branch_ids, since, until) -> int:
        from .db import repo
        with self.tabour.db.read() as conn:
            missing = repo.calls_without_announcement(conn, branch_ids, since, until)
        queued = 0
        now = self.tabour.now()
        with self._lock:
            for key in [k for k, at in self._caught.items()
                        if (now - at).total_seconds() > 2 * LATE_S]:
                del self._caught[key]
        for branch_id, seq, event in missing:
            key = (branch_id, seq)
            with self._lock:
                if key in self._caught:
                    continue
                self._caught[key] = now
            log.info("announcing call %s late (seq %s): it was never announced",
                     event.data.get("code"), seq)
            self.submit(branch_id, seq, event, late=True)
            queued += 1
        return queued

    def _keep(self, branch_id: int, seq: int, payload: dict) -> bool:
        """Record the announcement; False when it was recorded already (a late
        announcement then stays quiet)."""
        now = self.tabour.now()
        A = s.announcements
        # the old rows go now and then, not with every call (a statement less a call)
        prune = self._pruned_at is None or (now - self._pruned_at).total_seconds() >= PRUNE_S
        try:
            # one statement that commits by itself (on PostgreSQL one round trip, not three)
            with self.tabour.db.write_one() as conn:
                conn.execute(_I_ANNOUNCEMENT, {"branch_id": branch_id, "seq": seq,
                                               "payload": payload, "made_at": now})
        except IntegrityError:
            return False  # announced already (a replayed batch, another process)
        if prune:
            with self.tabour.db.write_one() as conn:
                conn.execute(_D_OLD_ANNOUNCEMENTS, {"before": now - timedelta(seconds=KEPT_S)})
            self._pruned_at = now
        return True

    def recent(self, branch_id: int, after_seq: int, fresh_s: float = FRESH_S) -> list[dict]:
        since = self.tabour.now() - timedelta(seconds=fresh_s)
        A = s.announcements
        with self.tabour.db.read() as conn:
            rows = conn.execute(select(A.c.payload).where(
                A.c.branch_id == branch_id, A.c.seq > after_seq, A.c.made_at >= since)
                .order_by(A.c.seq))
            return [r.payload for r in rows]

    def audio_path(self, name: str) -> Path:
        return self.cache_dir / name

    def audio_for(self, name: str, branch_id: int, code: str, counter: int,
                  langs: list[str]) -> Path | None:
        """The WAV called ``name`` that another process made (each keeps its own folder;
        nginx hands a display's fetch to any of them), made here from what its URL says
        to say, if that is one of the branch's last calls (the displays' list: nobody
        makes this process say anything else). None when it is not, or when the audio
        made is not ``name``."""
        try:
            calls = self.tabour.view(branch_id).calls
        except Exception:  # no such branch
            return None
        if not any(c.code == code and c.counter == counter for c in list(calls)):
            return None
        try:
            audio = self.assemble(code, counter, langs, self.cache_dir)
        except NotSaidYet:
            audio = self.synthesize(code, counter, langs, self.cache_dir)
        return audio.path if audio.path.name == name and audio.path.is_file() else None


def audio_url(name: str, branch_id: int, code: str, counter: int, langs: list[str]) -> str:
    """Where a display fetches a call's audio: its name (a hash of what is said) and what
    to say, so that any process can answer (display/web: ``audio``)."""
    return f"/display/audio/{name}?" + urlencode(
        {"branch": branch_id, "code": code, "counter": counter, "langs": ",".join(langs)})
