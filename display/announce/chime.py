"""The call chime: a soft two-tone "ding-dong" (E5 then C5, bell-like), made in Python."""

from __future__ import annotations

import math
from functools import lru_cache

from .wavfile import from_floats

CHIME_VERSION = 1  # bump when the sound changes (part of the audio cache key)

DING_HZ = 659.25  # E5
DONG_HZ = 523.25  # C5
DONG_START_S = 0.45
NOTE_S = 0.9
TAIL_SILENCE_S = 0.25  # pause between the chime and the speech
PEAK = 0.4  # about -8 dBFS: as loud as espeak-ng speech (RMS ~3000 vs ~2700)
_PARTIALS = ((1.0, 1.0), (2.0, 0.35), (3.0, 0.12))  # (multiple of f0, amplitude)
_ATTACK_S = 0.006
_DECAY_TAU_S = 0.28
_RELEASE_S = 0.03  # fade at the end of a note: no click


def chime_duration_s() -> float:
    return DONG_START_S + NOTE_S + TAIL_SILENCE_S


def _note(rate: int, freq: float, start: int, out: list[float]) -> None:
    attack = max(1, int(_ATTACK_S * rate))
    release = max(1, int(_RELEASE_S * rate))
    length = int(NOTE_S * rate)
    for n in range(length):
        t = n / rate
        env = min(1.0, n / attack, (length - n) / release) * math.exp(-t / _DECAY_TAU_S)
        value = sum(a * math.sin(2 * math.pi * freq * k * t) for k, a in _PARTIALS)
        out[start + n] += env * value


@lru_cache(maxsize=4)
def chime_pcm(rate: int) -> bytes:
    """The chime (including its trailing pause) as 16-bit mono PCM at ``rate`` Hz."""
    total = int(round(chime_duration_s() * rate))
    out = [0.0] * total
    _note(rate, DING_HZ, 0, out)
    _note(rate, DONG_HZ, int(DONG_START_S * rate), out)
    peak = max(abs(v) for v in out) or 1.0
    return from_floats([v * PEAK / peak for v in out])
