from datetime import datetime, timezone

import pytest

from queue_server.dossiers import lifecycle as lc
from queue_server.dossiers.lifecycle import Dossier, DossierStatus as S
from queue_server.engine.errors import InvalidTransition, NotAllowed
from queue_server.engine.model import Actor

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
AGENT = Actor("user", 7, "amina")


def dossier(status=S.DEPOSITED):
    return Dossier(id=1, tracking="ABCDEFGH", type_code="old_age_pension", status=status,
                   insured_number="123456782", insured_masked="******782",
                   national_id_hash="h", national_id_masked="*****456", language="ar",
                   channel="kiosk", day="2025-03-03", deposited_at=NOW)


EXPECTED = {  # the whole table, pinned: (from, action) -> to; anything else refused
    (S.DEPOSITED, "receive"): S.RECEIVED,
    (S.RECEIVED, "review"): S.IN_REVIEW,
    (S.INCOMPLETE, "review"): S.IN_REVIEW,
    (S.IN_REVIEW, "incomplete"): S.INCOMPLETE,
    (S.IN_REVIEW, "accept"): S.ACCEPTED,
    (S.ACCEPTED, "pay"): S.PAID,
    (S.ACCEPTED, "close"): S.CLOSED,
    (S.PAID, "close"): S.CLOSED,
    (S.IN_REVIEW, "reject"): S.REJECTED,
    (S.INCOMPLETE, "reject"): S.REJECTED,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", lc.ACTIONS)
def test_every_cell_of_the_table(status, action):
    d = dossier(status)
    kw = {"missing": ["life_certificate"], "reason": "insufficient_contributions"}
    if (status, action) in EXPECTED:
        change = lc.transition(d, action, NOW, AGENT, **kw)
        assert change.dossier.status is EXPECTED[(status, action)]
        assert change.events[0].type == lc.EVENT_OF[action]
        assert change.events[0].data["previous"] == status.value
        assert change.events[0].actor == AGENT and change.events[0].at == NOW
    else:
        with pytest.raises(InvalidTransition):
            lc.transition(d, action, NOW, AGENT, **kw)


def test_skipping_a_step_says_what_comes_first():
    with pytest.raises(InvalidTransition) as e:
        lc.transition(dossier(S.DEPOSITED), "accept", NOW, AGENT)
    assert "not received yet" in e.value.message and "First mark it as received" in e.value.message


def test_incomplete_needs_known_missing_documents():
    d = dossier(S.IN_REVIEW)
    with pytest.raises(NotAllowed):
        lc.transition(d, "incomplete", NOW, AGENT, missing=[])
    with pytest.raises(NotAllowed):
        lc.transition(d, "incomplete", NOW, AGENT, missing=["x"], known_documents={"a"})
    ch = lc.transition(d, "incomplete", NOW, AGENT, missing=["a", "a"], known_documents={"a"})
    assert ch.dossier.missing == ("a",) and ch.events[0].data["missing"] == ["a"]


def test_reject_needs_a_reason_and_stamps_it():
    with pytest.raises(NotAllowed):
        lc.transition(dossier(S.IN_REVIEW), "reject", NOW, AGENT, reason="  ")
    ch = lc.transition(dossier(S.IN_REVIEW), "reject", NOW, AGENT, reason="duplicate")
    assert ch.dossier.reason == "duplicate" and ch.dossier.decided_at == NOW


def test_a_reason_is_a_code_staffs_words_are_an_internal_note():
    """Issue 12: the visitor reads the reason on the public page, so it is a code from
    the catalogs; free text is refused; staff's words go to the internal note, which no
    event carries."""
    with pytest.raises(NotAllowed) as refused:
        lc.transition(dossier(S.IN_REVIEW), "reject", NOW, AGENT, reason="not insured long enough")
    assert refused.value.code == "unknown_reject_reason"
    ch = lc.transition(dossier(S.IN_REVIEW), "reject", NOW, AGENT, reason="deadline_passed",
                       note="  called Mme B., see file 12  ")
    assert ch.dossier.internal_note == "called Mme B., see file 12"
    (event,) = ch.events
    assert event.data["reason"] == "deadline_passed" and event.data["note"] is True
    assert "Mme" not in str(event.data)


def test_unknown_action_is_refused():
    with pytest.raises(NotAllowed):
        lc.transition(dossier(), "archive", NOW, AGENT)


def test_events_never_carry_the_full_insured_number():
    ch = lc.deposit(dossier(), NOW, AGENT)
    assert "123456782" not in repr(ch.events[0].data)
    assert ch.events[0].data["insured"] == "******782"
