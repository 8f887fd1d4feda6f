from datetime import date
from pathlib import Path

import pytest

from queue_server.dossiers import deadlines, ids, types
from queue_server.dossiers.ids import InvalidInput
from queue_server.engine.errors import NotAllowed, NotFound

ROOT = Path(__file__).resolve().parents[3]
CNSS = ids.insured_scheme("cnss_ma")


def test_luhn_check_digit_of_cnss_numbers():
    body = "12345678"
    good = body + ids.luhn_digit(body)
    assert ids.validate_insured(f" {good[:3]} {good[3:]} ", CNSS) == good
    bad = body + str((int(ids.luhn_digit(body)) + 1) % 10)
    with pytest.raises(InvalidInput) as e:
        ids.validate_insured(bad, CNSS)
    assert e.value.details["reason"] == "check_digit"


@pytest.mark.parametrize("value", ["", "12345678", "1234567890", "12345678A", "ABCDEFGHI"])
def test_cnss_format(value):
    with pytest.raises(InvalidInput) as e:
        ids.validate_insured(value, CNSS)
    assert e.value.details["reason"] == "format" and "9 digits" in e.value.message


def test_check_rule_is_configurable():
    none = ids.insured_scheme("cnss_ma", "none")
    assert ids.validate_insured("123456789", none) == "123456789"
    with pytest.raises(ValueError):
        ids.insured_scheme("cnss_ma", "crc32")


def test_algerian_numbers():
    dz = ids.insured_scheme("dz_ss")
    body = "1234567890"
    assert ids.validate_insured(body + ids.mod97_digits(body), dz)
    with pytest.raises(InvalidInput):
        ids.validate_insured(body + "00", dz)
    nin = ids.national_scheme("nin_dz")
    assert ids.validate_national("1" * 18, nin) == "1" * 18
    with pytest.raises(InvalidInput):
        ids.validate_national("1" * 17, nin)


@pytest.mark.parametrize("good", ["BE123456", "a12345", "AB-1"])
def test_moroccan_cin_accepts(good):
    assert ids.validate_national(good, ids.national_scheme("cin_ma")) == ids.normalise(good)


@pytest.mark.parametrize("bad", ["123456", "ABC123", "BE1234567", "B"])
def test_moroccan_cin_refuses(bad):
    with pytest.raises(InvalidInput):
        ids.validate_national(bad, ids.national_scheme("cin_ma"))


def test_mask_and_digest():
    assert ids.mask("123456782") == "******782"
    assert ids.mask("BE 123456") == "*****456"
    a, b = ids.digest("be123456", b"k"), ids.digest("BE-123456", b"k")
    assert a == b and "123456" not in a and ids.digest("BE123456", b"other") != a


def test_deadlines_days_and_months():
    notice = deadlines.DeadlineRule("notice", {}, days=30)
    claim = deadlines.DeadlineRule("claim", {}, months=6)
    ev = date(2025, 1, 31)
    assert notice.due(ev) == date(2025, 3, 2)
    assert claim.due(ev) == date(2025, 7, 31)
    assert deadlines.add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)
    res = deadlines.check([notice, claim], ev, date(2025, 3, 3))
    assert [(r.rule.code, r.past) for r in res] == [("notice", True), ("claim", False)]
    on_the_day = deadlines.check([notice], ev, date(2025, 3, 2))
    assert on_the_day[0].past is False
    assert deadlines.check([notice], None, date(2025, 3, 3)) == []
    with pytest.raises(NotAllowed):
        deadlines.check([notice], date(2025, 4, 1), date(2025, 3, 3))


def test_the_shipped_config():
    cfg = types.load(ROOT / "config" / "dossiers.toml")
    assert list(cfg.types) == ["family_allowances", "sickness", "maternity", "disability_pension",
                               "old_age_pension", "death_grant", "survivors_pension"]
    sick = cfg.type("sickness")
    assert [(r.code, r.days, r.months) for r in sick.deadlines] == [
        ("stoppage_notice", 30, None), ("claim", None, 6)]
    assert cfg.type("death_grant").deadlines[0].months == 9
    old = cfg.type("old_age_pension")
    assert "life_certificate" in old.required and old.name("ar") == "معاش الشيخوخة"
    assert old.missing(["claim_form"]) == ["national_id_copy", "life_certificate",
                                           "bank_details", "inactivity_attestation"]
    with pytest.raises(NotFound):
        cfg.type("lottery")


def test_a_type_is_added_as_data():
    names = {"ar": "س", "fr": "f", "en": "e"}
    cfg = types.parse({"type": [{"code": "work_accident", "names": names, "event": names,
                                 "document": [{"code": "report", "names": names}],
                                 "deadline": [{"code": "declare", "within_days": 2,
                                               "names": names}]}]})
    t = cfg.type("work_accident")
    assert t.required == ["report"] and t.deadlines[0].days == 2


@pytest.mark.parametrize("bad", [
    {"type": []},
    {"type": [{"code": "Bad Code", "names": {"ar": "a", "fr": "f", "en": "e"}}]},
    {"type": [{"code": "x1", "names": {"fr": "f"}}]},
    {"type": [{"code": "x1", "names": {"ar": "a", "fr": "f", "en": "e"},
               "deadline": [{"code": "d", "within_days": 3,
                             "names": {"ar": "a", "fr": "f", "en": "e"}}]}]},
    {"identity": {"insured": "xx"}, "type": [{"code": "x1", "names": {"ar": "a", "fr": "f", "en": "e"}}]},
])
def test_config_errors_are_refused(bad):
    with pytest.raises((types.ConfigError, ValueError)):
        types.parse(bad)
