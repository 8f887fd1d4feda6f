import math
import wave

from display.announce import chime
from display.announce.espeak import EspeakInfo, _parse_voice_languages
from display.announce.wavfile import (
    from_floats,
    read_pcm,
    resample,
    rms,
    silence,
    write_wav_atomic,
)

RATE = 22050


def _samples(pcm):
    import array

    a = array.array("h")
    a.frombytes(pcm)
    return a


def _tone_power(samples, rate, freq):
    """Goertzel power of ``freq`` in ``samples``."""
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return s1 * s1 + s2 * s2 - k * s1 * s2


def test_chime_length_and_level():
    pcm = chime.chime_pcm(RATE)
    assert len(pcm) == 2 * round(chime.chime_duration_s() * RATE)
    samples = _samples(pcm)
    peak = max(abs(s) for s in samples)
    assert 0.35 * 32767 < peak <= 0.41 * 32767  # loud enough, never clipping
    assert rms(pcm) > 1000


def test_chime_is_ding_then_dong():
    samples = _samples(chime.chime_pcm(RATE))
    ding = samples[: int(0.4 * RATE)]
    dong = samples[int(0.9 * RATE): int(1.3 * RATE)]
    assert _tone_power(ding, RATE, chime.DING_HZ) > 20 * _tone_power(ding, RATE, chime.DONG_HZ)
    assert _tone_power(dong, RATE, chime.DONG_HZ) > 20 * _tone_power(dong, RATE, chime.DING_HZ)


def test_chime_starts_and_ends_without_click():
    samples = _samples(chime.chime_pcm(RATE))
    assert abs(samples[0]) < 50
    tail = samples[-int(chime.TAIL_SILENCE_S * RATE):]
    assert max(abs(s) for s in tail) == 0


def test_chime_at_another_rate_has_the_same_duration():
    assert len(chime.chime_pcm(16000)) == 2 * round(chime.chime_duration_s() * 16000)


def test_write_wav_atomic_roundtrip_and_no_temp_left(tmp_path):
    pcm = from_floats([0.0, 0.5, -0.5, 1.5])
    path = write_wav_atomic(tmp_path / "a" / "x.wav", RATE, [pcm, silence(RATE, 0.01)])
    rate, back = read_pcm(path)
    assert rate == RATE
    assert _samples(back)[:4].tolist() == [0, 16384, -16384, 32767]  # 1.5 clipped
    assert len(back) == 8 + 2 * round(RATE * 0.01)
    assert [p.name for p in path.parent.iterdir()] == ["x.wav"]
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)


def test_rms_of_silence_and_full_scale_square():
    assert rms(silence(RATE, 0.1)) == 0.0
    assert rms(b"") == 0.0
    assert abs(rms(from_floats([1.0, -1.0] * 100)) - 32767) < 1


def test_resample_keeps_duration_and_shape():
    tone = from_floats([math.sin(2 * math.pi * 440 * n / 16000) * 0.5 for n in range(16000)])
    out = resample(tone, 16000, RATE)
    assert len(out) == 2 * RATE
    assert abs(rms(out) - rms(tone)) < 0.02 * rms(tone)
    assert resample(tone, RATE, RATE) is tone


LISTING = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  ar              --/M      Arabic             sem/ar
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 5  fr-fr           --/M      French_(France)    roa/fr               (fr 5)
"""


def test_voice_listing_parse():
    langs = _parse_voice_languages(LISTING)
    assert langs == {"ar", "en-gb", "en", "fr-fr", "fr"}
    info = EspeakInfo("espeak-ng", "1.51", frozenset(langs))
    assert info.has_voice("ar") and info.has_voice("fr") and info.has_voice("EN")
    assert not info.has_voice("zgh") and not info.has_voice("f")
