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
    # a different call is a different file
    other = announcement_audio("C-008", 5, ["fr"], tmp_path)
    assert other.path != first.path and synthesis_count() == runs + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.path.name, other.path.name])


def test_two_languages_are_longer_than_one(tmp_path):
    ar = announcement_audio("A-042", 3, ["ar"], tmp_path)
    fr = announcement_audio("A-042", 3, ["fr"], tmp_path)
    both = announcement_audio("A-042", 3, ["ar", "fr"], tmp_path)
    assert both.languages_spoken == ("ar", "fr")
    assert both.duration_s > ar.duration_s + 1.0 and both.duration_s > fr.duration_s + 1.0
    rate, speech = speech_part(both.path)
    second_half = speech[len(speech) // 2:]
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
    assert list(tmp_path.iterdir()) == []  # cleans up after itself


def test_warm_up_reports_espeak():
    from display.announce import warm_up

    assert warm_up() is True
    assert warm_up("/nonexistent/espeak-ng") is False


def test_prune_cache_removes_oldest_first(tmp_path):
    import os

    from display.announce import prune_cache

    paths = [announcement_audio(f"D-{i}", 1, ["en"], tmp_path).path for i in range(3)]
    for age, path in enumerate(paths):
        os.utime(path, (1_000_000 + age, 1_000_000 + age))  # paths[0] is the oldest
    keep = paths[1].stat().st_size + paths[2].stat().st_size
    assert prune_cache(tmp_path, max_bytes=keep) == 1
    assert not paths[0].exists() and paths[1].exists() and paths[2].exists()
