"""Thin wrapper around the espeak-ng command line (offline speech synthesis)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from dataclasses import dataclass

from .wavfile import WavFormatError, read_pcm

DEFAULT_BIN = "espeak-ng"
SPEED_WPM = 150  # a little slower than espeak-ng's 175: announcements in a noisy hall
TIMEOUT_S = 15.0

# Voice used for each announcement language (espeak-ng -v). A language missing here
# uses its own code as the voice name.
VOICES: dict[str, str] = {"ar": "ar", "fr": "fr-fr", "en": "en-gb"}


class SynthesisError(RuntimeError):
    """espeak-ng is missing, failed, or produced no usable audio."""


@dataclass(frozen=True)
class EspeakInfo:
    binary: str
    version: str
    languages: frozenset[str]  # every language code espeak-ng lists (e.g. "ar", "fr-fr", "fr")

    def has_voice(self, lang: str) -> bool:
        lang = lang.lower()
        return any(code == lang or code.startswith(lang + "-") for code in self.languages)


_info_cache: dict[str, tuple[EspeakInfo | None, float]] = {}
RETRY_MISSING_S = 60.0  # a missing espeak-ng is looked for again after this long
_info_lock = threading.Lock()
_count_lock = threading.Lock()
_synthesis_count = 0


def voice_for(lang: str) -> str:
    return VOICES.get(lang, lang)


def espeak_info(binary: str = DEFAULT_BIN) -> EspeakInfo | None:
    """Version and languages of espeak-ng, or None when it is not installed. Cached per binary
    (a "not installed" answer only for RETRY_MISSING_S, so installing it needs no restart)."""
    with _info_lock:
        info, probed_at = _info_cache.get(binary, (None, None))
        if probed_at is None or (info is None and time.monotonic() - probed_at > RETRY_MISSING_S):
            info = _probe(binary)
            _info_cache[binary] = (info, time.monotonic())
        return info


def forget_espeak_info() -> None:
    """Drop the cached probe (e.g. after installing espeak-ng while running)."""
    with _info_lock:
        _info_cache.clear()


def _probe(binary: str) -> EspeakInfo | None:
    path = shutil.which(binary)
    if path is None:
        return None
    try:
        version = _run([path, "--version"]).stdout.decode("utf-8", "replace").strip()
        listing = _run([path, "--voices"]).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return None
    return EspeakInfo(path, version, frozenset(_parse_voice_languages(listing)))


def _parse_voice_languages(listing: str) -> set[str]:
    """Language codes from ``espeak-ng --voices``: the Language column and the
    "(other languages)" column, e.g. " 5  fr-fr  --/M  French_(France)  roa/fr  (fr 5)"."""
    codes: set[str] = set()
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 2:
            continue
        codes.add(fields[1].lower())
        for token in fields[5:]:
            token = token.strip("()")
            if token and not token.isdigit():
                codes.add(token.lower())
    return codes


def _run(argv: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, input=stdin, capture_output=True, timeout=TIMEOUT_S, check=True
    )


def synthesize(ssml: str, voice: str, binary: str = DEFAULT_BIN) -> tuple[int, bytes]:
    """Speak ``ssml`` with ``voice``; return (sample_rate, 16-bit mono PCM). Raises SynthesisError."""
    global _synthesis_count
    fd, wav_path = tempfile.mkstemp(prefix="tabour-espeak-", suffix=".wav")
    os.close(fd)
    try:
        with _count_lock:
            _synthesis_count += 1
        try:
            _run(
                [binary, "-v", voice, "-s", str(SPEED_WPM), "-m", "-b", "1", "-w", wav_path],
                stdin=ssml.encode("utf-8"),
            )
        except FileNotFoundError as exc:
            raise SynthesisError(f"{binary} is not installed") from exc
        except subprocess.CalledProcessError as exc:
            detail = exc.stderr.decode("utf-8", "replace").strip()
            raise SynthesisError(f"{binary} -v {voice} failed ({exc.returncode}): {detail}") from exc
        except (OSError, subprocess.SubprocessError) as exc:
            raise SynthesisError(f"{binary} -v {voice} failed: {exc}") from exc
        try:
            rate, pcm = read_pcm(wav_path)
        except (OSError, EOFError, wave.Error, WavFormatError) as exc:
            raise SynthesisError(f"{binary} -v {voice} wrote an unreadable WAV: {exc}") from exc
        if not pcm:
            raise SynthesisError(f"{binary} -v {voice} produced no audio")
        return rate, pcm
    finally:
        os.unlink(wav_path)


def synthesis_count() -> int:
    """How many times espeak-ng was run to speak in this process (for tests and stats)."""
    return _synthesis_count
