"""16-bit mono PCM WAV helpers: read, write atomically, silence, RMS, resample."""

from __future__ import annotations

import math
import os
import sys
import tempfile
import wave
from array import array
from pathlib import Path

SAMPLE_WIDTH = 2  # bytes: 16-bit signed
CHANNELS = 1


class WavFormatError(ValueError):
    """The WAV is not 16-bit mono PCM."""


def read_pcm(path: str | os.PathLike) -> tuple[int, bytes]:
    """Return (sample_rate, little-endian 16-bit mono frames) of a WAV file."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != SAMPLE_WIDTH or wav.getnchannels() != CHANNELS:
            raise WavFormatError(
                f"{path}: {wav.getnchannels()} channel(s), {8 * wav.getsampwidth()}-bit;"
                " expected 16-bit mono"
            )
        return wav.getframerate(), wav.readframes(wav.getnframes())


def duration_s(path: str | os.PathLike) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())


def write_wav_atomic(path: str | os.PathLike, rate: int, chunks: list[bytes]) -> Path:
    """Write 16-bit mono PCM chunks to ``path`` via a temp file + rename (readers never see
    a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as wav:
            wav.setnchannels(CHANNELS)
            wav.setsampwidth(SAMPLE_WIDTH)
            wav.setframerate(rate)
            for chunk in chunks:
                wav.writeframes(chunk)
        os.chmod(tmp, 0o600)  # owner-only like everything in var/ (issue 12); the server serves it
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def silence(rate: int, seconds: float) -> bytes:
    return b"\x00\x00" * int(round(rate * seconds))


def _samples(pcm: bytes) -> array:
    samples = array("h")
    samples.frombytes(pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _to_bytes(samples: array) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def rms(pcm: bytes) -> float:
    """Root mean square of 16-bit samples (0 for silence, ~23170 for a full-scale sine)."""
    samples = _samples(pcm)
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def from_floats(values: list[float]) -> bytes:
    """Floats in [-1, 1] to 16-bit PCM (clipped)."""
    samples = array("h", (max(-32767, min(32767, int(round(v * 32767)))) for v in values))
    return _to_bytes(samples)


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Linear-interpolation resampling; only used when two sources disagree on rate
    (espeak-ng voices all speak at 22050 Hz, so normally never)."""
    if from_rate == to_rate:
        return pcm
    src = _samples(pcm)
    if not src:
        return b""
    n_out = int(len(src) * to_rate / from_rate)
    step = from_rate / to_rate
    last = len(src) - 1
    out = array("h")
    for i in range(n_out):
        pos = i * step
        j = int(pos)
        frac = pos - j
        a = src[j]
        b = src[j + 1] if j < last else a
        out.append(int(round(a + (b - a) * frac)))
    return _to_bytes(out)
