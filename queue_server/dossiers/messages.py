"""The dossier refusals: codes and English templates (see engine/messages.py)."""
from ..engine.messages import N_, register, words

DOSSIER_ACTION_WORDS = {
    "receive": N_("mark as received"), "review": N_("start the review of"),
    "incomplete": N_("mark as incomplete"), "accept": N_("accept"), "pay": N_("mark as paid"),
    "close": N_("close"), "reject": N_("reject"),
}
DOSSIER_STATUS_WORDS = {
    "deposited": N_("was deposited but not received yet"),
    "received": N_("was received but its review has not started"),
    "in_review": N_("is in review"), "incomplete": N_("is incomplete"),
    "accepted": N_("was accepted"), "paid": N_("was paid"), "closed": N_("is closed"),
    "rejected": N_("was rejected"),
}
# what must happen first, for the "skipped a step" message
DOSSIER_FIRST = {
    "deposited": N_("First mark it as received."),
    "received": N_("First start the review."),
    "in_review": N_("First accept it, reject it or mark it incomplete."),
    "incomplete": N_("First start the review again when the documents arrive, or reject it."),
    "accepted": N_("First mark it as paid or close it."),
}

# why a dossier is rejected, as the visitor reads it on /d/<tracking> (a code chosen by staff,
# never their free text: that goes to the internal note, shown to staff only)
REJECT_REASONS = {
    "not_entitled": N_("The conditions for this benefit are not met."),
    "insufficient_contributions": N_("Not enough contribution periods are recorded for this "
                                     "benefit."),
    "deadline_passed": N_("The request was made after the deadline."),
    "invalid_documents": N_("A document is not valid or cannot be read."),
    "duplicate": N_("A dossier for the same request was already handled."),
    "other": N_("Ask at a counter for the reason, with your receipt."),
}

register({
    "unknown_reject_reason": N_("Unknown rejection reason '%(reason)s': choose one of "
                                "%(choices)s."),
    "dossier_state": N_("Cannot %(dossier_action)s dossier %(tracking)s: it %(dossier_status)s."),
    "dossier_state_first": N_("Cannot %(dossier_action)s dossier %(tracking)s: it "
                              "%(dossier_status)s. %(first)s"),
    "unknown_dossier_action": N_("Unknown dossier action '%(action_name)s': use one of "
                                 "%(choices)s."),
    "dossier_new_state": N_("A new dossier starts as deposited."),
    "missing_documents_needed": N_("Say which documents are missing from dossier "
                                   "%(tracking)s."),
    "unknown_documents": N_("Unknown document(s) %(documents)s for this dossier type: use one "
                            "of %(choices)s."),
    "reject_reason_needed": N_("Choose the reason dossier %(tracking)s is rejected from the "
                               "list: the visitor reads it (a note of your own stays "
                               "internal)."),
    "invalid_format": N_("The %(what)s is not in the right format: %(expected)s."),
    "invalid_check_digit": N_("The %(what)s is not valid (its check digit does not match): "
                              "check each digit and type it again."),
    "future_date": N_("The date %(event_date)s is in the future: check the date."),
    "dossier_type_not_found": N_("There is no dossier type '%(type)s': use one of "
                                 "%(choices)s."),
    "dossier_not_found": N_("There is no dossier with the tracking number '%(tracking)s': "
                            "check it on the receipt."),
    "dossier_changed": N_("Dossier %(tracking)s was changed by someone else at the same "
                          "moment: refresh and try again."),
    "tracking_busy": N_("Could not give this dossier a tracking number: try again."),
    "unknown_dossier_status": N_("Unknown status '%(status_name)s': use one of %(choices)s."),
    "too_many_guesses": N_("Too many wrong tracking numbers from this device: wait a few "
                           "minutes, then type the number from your receipt again."),
    "what_insured_number": N_("insured number"),
    "what_national_id": N_("national ID number"),
})

register({f"first_{k}": v for k, v in DOSSIER_FIRST.items()})
words("dossier_action", DOSSIER_ACTION_WORDS)
words("dossier_status", DOSSIER_STATUS_WORDS)
