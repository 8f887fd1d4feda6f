"""Real espeak-ng: audio is produced, spoken (not silent), cached, and falls back to the chime."""

import logging
import shutil
import subprocess

import pytest

from display.announce import announcement_audio, chime_duration_s, synthesis_count
from display.announce.chime import chime_pcm
from display.announce.wavfile import read_pcm, rms
from display.bench import measure

if shutil.which("espeak-ng") is None:  # fail loudly: these tests exist to exercise the real thing
    pytest.fail("espeak-ng is not installed (apt-get install espeak-ng)", pytrace=False)

SPEECH_RMS_MIN = 800  # espeak-ng speech measures ~2000-4000; silence 0


def speech_part(path):
    rate, pcm = read_pcm(path)
    return rate, pcm[len(chime_pcm(rate)):]


@pytest.mark.parametrize("lang", ["ar", "fr", "en"])
def test_each_language_is_spoken_after_the_chime(tmp_path, lang):
    audio = announcement_audio("A-042", 3, [lang], tmp_path)
    assert audio.languages_spoken == (lang,)
    assert not audio.fell_back and audio.reason == ""
    assert audio.duration_s > chime_duration_s() + 1.0
    rate, speech = speech_part(audio.path)
    assert rate == 22050
    assert rms(speech) > SPEECH_RMS_MIN
    # the chime is really at the start of the file
    _, pcm = read_pcm(audio.path)
    assert pcm[: len(chime_pcm(rate))] == chime_pcm(rate)


def test_second_request_is_a_cache_hit(tmp_path):
    first = announcement_audio("C-007", 5, ["fr"], tmp_path)
    mtime = first.path.stat().st_mtime_ns
    runs = synthesis_count()
    second = announcement_audio("C-007", 5, ["fr"], tmp_path)
    assert second.path == first.path and second.cached and not first.cached
    assert synthesis_count() == runs  # espeak-ng not run again
    assert second.path.stat().st_mtime_ns == mtime
    assert second.duration_s == pytest.approx(first.duration_s)
    # a different call is a different file; only its new piece (the number) is spoken
    other = announcement_audio("C-008", 5, ["fr"], tmp_path)
    assert other.path != first.path and synthesis_count() == runs + 1
    assert sorted(p.name for p in tmp_path.glob("call-*")) == sorted([first.path.name,
                                                                     other.path.name])


def test_a_call_made_of_pieces_said_before_runs_no_espeak(tmp_path):
    from display.announce import pieces

    a = announcement_audio("A-042", 3, ["ar", "fr"], tmp_path)
    announcement_audio("B-043", 4, ["ar", "fr"], tmp_path)
    runs = synthesis_count()
    pieces.forget()  # as in another server process: the pieces are read from the disk
    mixed = announcement_audio("B-042", 3, ["ar", "fr"], tmp_path)
    assert not mixed.cached and mixed.path != a.path and synthesis_count() == runs
    assert mixed.languages_spoken == ("ar", "fr") and not mixed.fell_back
    assert mixed.elapsed_ms < a.elapsed_ms
    # as long as the call said whole (the letter B is a little shorter or longer than A)
    assert mixed.duration_s == pytest.approx(a.duration_s, abs=0.6)
    rate, speech = speech_part(mixed.path)
    quarter = len(speech) // 8 * 2
    for k in range(4):  # speech all along: the Arabic, then the French
        assert rms(speech[k * quarter:(k + 1) * quarter]) > SPEECH_RMS_MIN / 2


def test_pieces_are_trimmed_of_espeaks_silence(tmp_path):
    from display.announce.pieces import KEEP_S

    announcement_audio("A-042", 3, ["fr"], tmp_path)
    files = sorted((tmp_path / "pieces").glob("*.wav"))
    assert len(files) == 5  # ticket | A | 42 | guichet | 3 (the comma is a pause)
    for path in files:
        rate, pcm = read_pcm(path)
        edge = int(rate * (KEEP_S + 0.03)) * 2
        assert rms(pcm[:edge]) > 30 and rms(pcm[-edge:]) > 30, path  # no long silence
        assert len(pcm) / 2 / rate < 1.5


def test_two_languages_are_longer_than_one(tmp_path):
    ar = announcement_audio("A-042", 3, ["ar"], tmp_path)
    fr = announcement_audio("A-042", 3, ["fr"], tmp_path)
    both = announcement_audio("A-042", 3, ["ar", "fr"], tmp_path)
    assert both.languages_spoken == ("ar", "fr")
    assert both.duration_s > ar.duration_s + 1.0 and both.duration_s > fr.duration_s + 1.0
    rate, speech = speech_part(both.path)
    second_half = speech[len(speech) // 4 * 2:]  # on a sample's boundary
    assert rms(second_half) > SPEECH_RMS_MIN  # the French part is spoken too


@pytest.mark.parametrize("lang", ["zgh", "xx"])
def test_language_without_voice_falls_back_to_chime(tmp_path, caplog, lang):
    with caplog.at_level(logging.WARNING, logger="display.announce"):
        audio = announcement_audio("A-042", 3, [lang], tmp_path)
    assert audio.fell_back and audio.languages_spoken == ()
    assert lang in audio.reason
    assert audio.duration_s == pytest.approx(chime_duration_s(), abs=0.01)
    _, pcm = read_pcm(audio.path)
    assert pcm == chime_pcm(22050)
    assert f"no voice for language '{lang}'" in caplog.text or "chime only" in caplog.text


def test_partly_spoken_when_one_of_two_languages_has_no_voice(tmp_path):
    audio = announcement_audio("A-042", 3, ["ar", "zgh"], tmp_path)
    assert audio.languages_spoken == ("ar",) and audio.fell_back
    assert "zgh" in audio.reason
    assert audio.duration_s > chime_duration_s() + 1.0


def test_missing_espeak_falls_back_without_raising(tmp_path):
    audio = announcement_audio("A-042", 3, ["ar", "fr"], tmp_path, espeak_bin="/nonexistent/espeak-ng")
    assert audio.fell_back and audio.languages_spoken == ()
    assert "not installed" in audio.reason
    assert audio.path.exists()


def test_unspeakable_code_gives_the_chime(tmp_path):
    audio = announcement_audio("??", 3, ["fr"], tmp_path)
    assert audio.fell_back and audio.path.exists() and audio.languages_spoken == ()


def _phonemes(ssml, voice):
    out = subprocess.run(
        ["espeak-ng", "-q", "-x", "-m", "-b", "1", "-v", voice],
        input=ssml.encode(), capture_output=True, check=True, timeout=10,
    )
    return out.stdout.decode()


def test_letter_is_spoken_as_its_name():
    from display.announce.phrases import phrase_ssml

    # English: "A" as the letter (eI), not the article (a#)
    assert "'eI" in _phonemes(phrase_ssml("A-042", 3, "en"), "en-gb")
    # French: "Y" as "i grec"
    assert "igr'Ek" in _phonemes(phrase_ssml("Y-1", 3, "fr"), "fr-fr")
    # Arabic: "B" named the French way (bé), through the French voice
    ar = _phonemes(phrase_ssml("B-1", 3, "ar"), "ar")
    assert "b'e" in ar and "?att'aDkaR" in ar


def test_bench_measure(tmp_path):
    figures = measure(tmp_path, runs=3)
    assert 0 < figures["announcement_cached_ms"] < figures["announcement_generate_ms_median"]
    assert figures["announcement_assembled_ms_median"] < figures["announcement_generate_ms_median"]
    assert list(tmp_path.iterdir()) == []  # cleans up after itself


def test_warm_up_reports_espeak():
    from display.announce import warm_up

    assert warm_up() is True
    assert warm_up("/nonexistent/espeak-ng") is False


def test_prune_cache_removes_oldest_first(tmp_path):
    import os

    from display.announce import prune_cache

    paths = [announcement_audio(f"D-{i}", 1, ["en"], tmp_path).path for i in range(3)]
    said = sorted((tmp_path / "pieces").glob("*.wav"))
    for age, path in enumerate([*said, *paths]):  # the pieces are the oldest, then paths[0]
        os.utime(path, (1_000_000 + age, 1_000_000 + age))
    keep = paths[1].stat().st_size + paths[2].stat().st_size
    assert prune_cache(tmp_path, max_bytes=keep) == len(said) + 1
    assert not paths[0].exists() and paths[1].exists() and paths[2].exists()
    assert list((tmp_path / "pieces").glob("*.wav")) == []
    # a pruned piece is spoken again when a call needs it (in a process that had not
    # kept it in memory)
    from display.announce import pieces

    pieces.forget()
    again = announcement_audio("D-7", 1, ["en"], tmp_path)
    assert again.languages_spoken == ("en",) and len(list((tmp_path / "pieces").iterdir())) == 5


def test_a_calls_new_pieces_are_said_in_one_run_a_voice(tmp_path):
    runs = synthesis_count()
    audio = announcement_audio("B-042", 3, ["ar"], tmp_path)
    # التذكرة | 42 | الشباك | 3 by the Arabic voice, B by the French one: two runs
    assert synthesis_count() == runs + 2
    assert audio.languages_spoken == ("ar",) and len(list((tmp_path / "pieces").iterdir())) == 5
    rate, speech = speech_part(audio.path)
    assert len(speech) / 2 / rate > 2.5 and rms(speech) > SPEECH_RMS_MIN


def test_pieces_said_ahead_leave_a_call_nothing_to_say(tmp_path):
    from display.announce.pieces import warm

    assert warm(range(0, 12), ["fr", "en"], tmp_path) == 2 * (12 + 3)  # + ticket, A, counter
    assert warm(range(0, 12), ["fr", "en"], tmp_path) == 0  # on disk already
    runs = synthesis_count()
    for code, counter in [("A-7", 3), ("A-11", 10), ("A-0", 1)]:
        audio = announcement_audio(code, counter, ["fr", "en"], tmp_path)
        assert audio.languages_spoken == ("fr", "en") and not audio.fell_back
    assert synthesis_count() == runs


def test_said_only_assembles_or_says_what_is_missing(tmp_path):
    """What a server process does itself: assemble from pieces said before, never run
    espeak-ng (a call with a new piece goes to its helper)."""
    from display.announce.pieces import NotSaidYet

    runs = synthesis_count()
    with pytest.raises(NotSaidYet, match="42"):
        announcement_audio("A-042", 3, ["fr"], tmp_path, said_only=True)
    assert synthesis_count() == runs and list(tmp_path.glob("call-*")) == []
    announcement_audio("A-042", 3, ["fr"], tmp_path)  # the helper's part: say the pieces
    runs = synthesis_count()
    audio = announcement_audio("A-042", 3, ["fr"], tmp_path, said_only=True)  # the file
    again = announcement_audio("A-3", 42, ["fr"], tmp_path, said_only=True)  # new call
    assert audio.cached and not again.cached and again.languages_spoken == ("fr",)
    assert synthesis_count() == runs
