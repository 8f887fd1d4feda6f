"""Every string of the kiosk, in the current locale (call it under ``force_locale``).

The kiosk is one page that never leaves itself (a tap during an outage must not land on
Chromium's error page): it carries the strings of each of the branch's languages and
switches in place. ``{name}`` placeholders are filled in by the page.
"""
from __future__ import annotations

from flask_babel import gettext as _


def kiosk_strings() -> dict[str, str]:
    return {
        # start, pairing
        "title": _("Tabour kiosk"),
        "welcome": _("Welcome"),
        "chooseLanguage": _("Choose your language"),
        "pairTitle": _("Pair this kiosk"),
        "pairTyped": _("Type the pairing code an administrator gave you."),
        "pairHow": _("No code yet? On the branch's server, run this command (a code is "
                     "valid 15 minutes), or use the code printed when the server started:"),
        "pairingCode": _("Pairing code"),
        "pair": _("Pair"),
        "unpaired": _("This kiosk is no longer paired. Ask an administrator for a new pairing "
                      "code."),
        "badCode": _("This pairing code is not valid. Check it and try again."),
        "reconnecting": _("Reconnecting to the server…"),
        "reconnectingTap": _("The server cannot be reached: your choice is kept and sent as "
                             "soon as it is back."),
        # printer banner
        "paperOut": _("The printer is out of paper: ask at reception for your ticket."),
        "paperLow": _("The printer paper is running low."),
        "coverOpen": _("The printer cover is open: ask at reception for your ticket."),
        "printerDown": _("The printer is not available: ask at reception for your ticket."),
        # services
        "back": _("Back"),
        "chooseService": _("Choose a service"),
        "priorityTitle": _("Priority ticket"),
        "priorityFirst": _("Elderly, disabled or pregnant? Tap your case first, then the "
                           "service."),
        "elderly": _("Elderly"),
        "disabled": _("Disabled"),
        "pregnant": _("Pregnant"),
        "dossierLink": _("Drop off or follow a dossier"),
        "waiting": _("{n} waiting"),
        "minutes": _("about {m} min"),
        "minutesShort": _("{m} min"),
        "closed": _("Closed"),
        "noCounter": _("No counter open"),
        "serviceClosed": _("This service is closed right now. Choose another service or ask "
                           "at reception."),
        "error": _("Something went wrong. Please try again or ask at reception."),
        "wait": _("Please wait…"),
        # ticket
        "yourNumber": _("Your number"),
        "peopleAhead": _("People ahead of you"),
        "estimatedWait": _("Estimated wait"),
        "youAreNext": _("You are next"),
        "nextWait": _("A counter frees up in about {m} min."),
        "scanHint": _("Scan to follow your turn on your phone. You can wait outside."),
        "done": _("Done"),
        "printing": _("Printing your ticket…"),
        "printed": _("Take your printed ticket below the screen."),
        "printFailed": _("The ticket could not be printed: note your number or scan the code, "
                         "and ask at reception."),
        "askReception": _("Your ticket did not print. Show this number at reception: {code}"),
        "waitingPaper": _("The printer is waiting for paper: your ticket prints as soon as it "
                          "is refilled. You can also ask at reception."),
        # dossiers
        "dossierTitle": _("Dossier drop-off"),
        "whichDossier": _("Which dossier are you dropping off?"),
        "followDossier": _("Follow a dossier"),
        "trackingNumber": _("Tracking number"),
        "lookUp": _("Look up"),
        "insuredNumber": _("Insured number"),
        "nationalId": _("National ID number"),
        "dateHint": _("day / month / year"),
        "datePlaceholder": _("DD/MM/YYYY"),
        "badDate": _("This date does not exist: type the day, the month and the year "
                     "(8 digits)."),
        "next": _("Next"),
        "tickDocuments": _("Tick the documents you have"),
        "notComplete": _("Your dossier is not complete"),
        "missingDocuments": _("Missing documents:"),
        "depositOrTicket": _("You can deposit it anyway (an agent will tell you what to bring),"
                             " or take a ticket to see an agent."),
        "depositAnyway": _("Deposit anyway"),
        "takeTicket": _("Take a ticket instead"),
        "confirmTitle": _("Confirm the deposit"),
        "confirm": _("Confirm"),
        "yourTracking": _("Your tracking number"),
        "receiptHint": _("Take your receipt below the screen and put your dossier in the box."),
        "box": _("Put your dossier in box {box}."),
        "late": _("Deadline passed: {name} (was {due})."),
        "notFound": _("There is no dossier with this tracking number: check it on your "
                      "receipt."),
        "erase": _("Erase"),
        "keypad": _("Keypad"),
    }
