import random

from hypothesis import given, settings, strategies as st

from queue_server.dossiers import tracking


def test_alphabet_has_no_ambiguous_symbols():
    assert len(tracking.ALPHABET) == 32
    assert not set("01OI") & set(tracking.ALPHABET)


@settings(max_examples=300)
@given(st.randoms(use_true_random=False))
def test_every_number_is_well_formed(rnd):
    n = tracking.new(rnd.randrange)
    assert len(n) == 8 and set(n) <= set(tracking.ALPHABET)
    assert tracking.is_valid(n) and tracking.parse(n.lower()) == n
    assert tracking.parse(tracking.display(n)) == n
    assert tracking.parse(f"https://branch.local/d/{n}?x=1") == n


@settings(max_examples=300)
@given(st.text(alphabet=tracking.ALPHABET, min_size=7, max_size=7),
       st.integers(0, 7), st.integers(1, 31))
def test_a_single_mistyped_symbol_is_caught(body, pos, shift):
    n = body + tracking.check_char(body)
    wrong = list(n)
    wrong[pos] = tracking.ALPHABET[(tracking.ALPHABET.index(n[pos]) + shift) % 32]
    assert not tracking.is_valid("".join(wrong))


def test_many_numbers_are_distinct_and_spread():
    # seeded, so the test is deterministic; with secrets the birthday bound says
    # ~1 collision per ~260k numbers: the database's unique constraint and a
    # redraw make them unique (tests/integration/dossiers)
    rnd = random.Random(20261129)  # a seed whose 50,000 draws do not collide
    numbers = [tracking.new(rnd.randrange) for _ in range(50_000)]
    assert len(set(numbers)) == len(numbers)
    assert all(tracking.is_valid(n) for n in numbers)
    firsts = {n[0] for n in numbers}
    # the centre's numbers never start with a site's symbol (sites draw offline)
    assert firsts == set(tracking.ALPHABET) - set(tracking.SITE_FIRST)


def test_a_sites_numbers_start_with_its_tag_and_never_meet_the_centres():
    rnd = random.Random(7)
    site = [tracking.new(rnd.randrange, tag="XK") for _ in range(5_000)]
    other = [tracking.new(rnd.randrange, tag="W3") for _ in range(5_000)]
    centre = [tracking.new(rnd.randrange) for _ in range(5_000)]
    assert all(n.startswith("XK") and tracking.is_valid(n) for n in site)
    assert not {n[:2] for n in centre} & {"XK", "W3"}
    assert not set(site) & set(other) and not set(site) & set(centre)
    for bad in ("AB", "X", "XKK", "X0"):
        try:
            tracking.new(tag=bad)
        except ValueError:
            continue
        raise AssertionError(f"tag {bad!r} accepted")


def test_garbage_is_refused():
    for bad in ["", "ABCD", "ABCDEFG0", "ABCDEFGI", "ABCDEFGHJ", None]:
        assert tracking.parse(bad) is None
