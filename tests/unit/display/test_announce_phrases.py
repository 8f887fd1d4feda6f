import pytest

from display.announce.phrases import (
    COMMA_PAUSE_S,
    PHRASE_TEMPLATES,
    Piece,
    phrase_pieces,
    parse_code,
    phrase_ssml,
    phrase_text,
)


@pytest.mark.parametrize(
    "code, expected",
    [("A-042", ("A", 42)), ("a-7", ("A", 7)), ("B042", ("B", 42)), ("17", ("", 17)),
     ("AB-100", ("AB", 100)), (" C 009 ", ("C", 9)), ("A-000", ("A", 0))],
)
def test_parse_code_drops_leading_zeros(code, expected):
    assert parse_code(code) == expected


@pytest.mark.parametrize("code", ["", "A-", "-42", "A-4B", "é-1", None])
def test_parse_code_rejects_garbage(code):
    with pytest.raises(ValueError):
        parse_code(code)


def test_phrase_text_in_each_language():
    assert phrase_text("A-042", 3, "fr") == "ticket A 42, guichet 3"
    assert phrase_text("A-042", 3, "en") == "ticket A 42, counter 3"
    assert phrase_text("A-042", 3, "ar") == "التذكرة A 42، الشباك 3"
    assert phrase_text("042", 12, "en") == "ticket 42, counter 12"


def test_templates_cover_the_three_product_languages():
    assert {"ar", "fr", "en"} <= set(PHRASE_TEMPLATES)


def test_ssml_spells_the_letters_and_keeps_the_number_whole():
    ssml = phrase_ssml("A-042", 3, "en")
    assert ssml == '<speak>ticket <say-as interpret-as="characters">A</say-as> 42, counter 3</speak>'
    assert "042" not in ssml


def test_arabic_letters_are_named_with_the_french_voice():
    ssml = phrase_ssml("B-7", 2, "ar")
    assert '<voice name="fr"><say-as interpret-as="characters">B</say-as></voice>' in ssml
    assert ssml.startswith("<speak>التذكرة ")
    # without the French voice the letter is still spelled, by espeak-ng's own rules
    plain = phrase_ssml("B-7", 2, "ar", letter_voice_ok=False)
    assert "<voice" not in plain and 'interpret-as="characters">B<' in plain


def test_ssml_escapes_counter_text():
    assert "&lt;3&gt;" in phrase_ssml("A-1", "<3>", "en")


def test_code_without_letters_has_no_say_as():
    assert "say-as" not in phrase_ssml("42", 1, "fr")


def test_unknown_language_has_no_template():
    with pytest.raises(KeyError):
        phrase_text("A-1", 1, "zgh")


def test_pieces_follow_the_phrase_with_a_pause_at_its_comma():
    said = phrase_pieces("B-042", 3, "fr")
    assert said == [Piece("fr", "<speak>ticket</speak>"),
                    Piece("fr", '<speak><say-as interpret-as="characters">B</say-as></speak>'),
                    Piece("fr", "<speak>42</speak>"), Piece("fr", pause_s=COMMA_PAUSE_S),
                    Piece("fr", "<speak>guichet</speak>"), Piece("fr", "<speak>3</speak>")]


def test_arabic_pieces_name_the_letters_with_the_french_voice():
    said = phrase_pieces("B-7", "12", "ar")
    assert [p.lang for p in said] == ["ar", "fr", "ar", "ar", "ar", "ar"]
    assert said[0].ssml == "<speak>التذكرة</speak>" and said[4].ssml == "<speak>الشباك</speak>"
    assert said[3].pause_s == COMMA_PAUSE_S  # the Arabic comma
    assert phrase_pieces("B-7", 12, "ar", letter_voice_ok=False)[1].lang == "ar"


def test_pieces_of_a_code_without_letters_and_an_odd_counter():
    said = phrase_pieces("042", "<3>", "en")
    assert [p.ssml for p in said] == ["<speak>ticket</speak>", "<speak>42</speak>", "",
                                      "<speak>counter</speak>", "<speak>&lt;3&gt;</speak>"]
