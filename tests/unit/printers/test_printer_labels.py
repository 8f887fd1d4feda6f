from printers.labels import FSI, PDI, label, minutes


def test_values_in_arabic_sentences_are_bidi_isolated_and_latin_ones_are_not():
    assert label("people_ahead_line", "ar", n=7) == f"عدد الأشخاص قبلك: {FSI}7{PDI}"
    assert label("people_ahead_line", "fr", n=7) == "Personnes avant vous : 7"


def test_missing_language_falls_back_to_french():
    assert label("your_number", "kab") == "Votre numéro"
    assert label("priority_disabled", "zgh") == "Personne handicapée"  # no zgh yet


def test_tamazight_labels_are_tifinagh():
    assert label("your_number", "zgh") == "ⴰⵎⴹⴰⵏ ⵏⵏⴽ"
    assert label("people_ahead_line", "zgh", n=3).endswith(": 3")  # left to right: no isolate


def test_minutes_agree_with_the_number():
    assert minutes(1, "fr") == "1 minute"
    assert minutes(15, "en") == "15 minutes"
    assert minutes(2, "ar") == "دقيقتان"
    assert minutes(5, "ar") == "5 دقائق"
    assert minutes(15, "ar") == "15 دقيقة"
    assert minutes(1, "ar") == "دقيقة واحدة"
    assert minutes(11, "ar") == "11 دقيقة" and minutes(103, "ar") == "103 دقائق"
    assert minutes(0, "fr") == "0 minute" and minutes(2, "zgh") == "2 ⵜⵓⵙⴷⵉⴷⵉⵏ"


def test_labels_come_from_the_one_catalog():
    """The receipts, the pages and the announcements share the catalogs: a label the
    kiosk page translates is printed with the same words."""
    from printers.catalogs import text
    assert label("tracking_number", "ar") == text("Tracking number", "ar") == "رقم التتبع"
