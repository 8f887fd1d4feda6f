"""One WAV per call announcement: chime + phrase in language 1 (+ language 2 ...), cached on disk.

The cache key is a hash of everything that shapes the sound (the SSML of each phrase, the
voices, the espeak-ng version, the speed, the chime and this module's version), so a second
request for the same call is a file lookup. Files are written to a temp file and renamed.
The speech itself is assembled from pieces spoken once and kept (``pieces``): a call whose
words, letters and numbers were all said before runs no espeak-ng at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from . import espeak, pieces
from .chime import CHIME_VERSION, chime_pcm
from .phrases import LETTER_VOICE, PHRASE_TEMPLATES, Piece, parse_code, phrase_pieces, phrase_ssml
from .wavfile import duration_s, resample, silence, write_wav_atomic

log = logging.getLogger(__name__)

AUDIO_VERSION = 2  # bump when the assembly below changes (2: said from cached pieces)
DEFAULT_CACHE_DIR = Path("var/audio")
DEFAULT_RATE = 22050  # espeak-ng's rate; used for the chime when nothing is spoken
GAP_BETWEEN_LANGUAGES_S = 0.35
END_PAD_S = 0.3
PRUNE_EVERY = 200  # writes between two prunes of the cache directory
PRUNE_MAX_BYTES = 500 * 1024 * 1024


@dataclass(frozen=True)
class AnnouncementAudio:
    path: Path  # the WAV file: chime + speech (or the chime alone)
    duration_s: float
    languages_spoken: tuple[str, ...]
    fell_back: bool  # True when a requested language was not spoken (chime alone if none was)
    reason: str  # why, in words for the log; "" when everything requested was spoken
    cached: bool  # served from the cache, espeak-ng not run
    elapsed_ms: float  # time this call took


@dataclass(frozen=True)
class _Part:
    lang: str
    voice: str
    ssml: str  # the whole phrase: what the cache key says is in the file
    pieces: tuple[Piece, ...]  # what is spoken: the phrase in reusable pieces


_warned: set[str] = set()
_prune_lock = threading.Lock()
_writes_since_prune = 0


def announcement_audio(
    code: str,
    counter_number: int | str,
    languages: str | Iterable[str] = ("ar", "fr"),
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
    *,
    espeak_bin: str = espeak.DEFAULT_BIN,
    said_only: bool = False,
) -> AnnouncementAudio:
    """Audio for "ticket <code>, counter <counter_number>" in each of ``languages`` in order.

    Never raises for a missing voice, a missing espeak-ng or a bad code: it then returns the
    chime (plus whatever could be spoken) with ``fell_back=True`` and the reason, and logs it.
    Errors writing to ``cache_dir`` (disk full, permissions) do raise OSError.
    ``said_only``: assemble from pieces said before, or raise pieces.NotSaidYet (no
    espeak-ng run: what a server process does itself, leaving new pieces to its helper).
    """
    started = time.perf_counter()
    wanted = _language_list(languages)
    cache_dir = Path(cache_dir)
    parts, problems = _plan(code, counter_number, wanted, espeak_bin)

    path = cache_dir / f"call-{_cache_key(parts, espeak_bin)}.wav"
    cached = True
    try:
        length = duration_s(path)
    except (OSError, EOFError, wave.Error):  # missing or unreadable: (re)build it
        cached = False
        path, parts, length = _build(cache_dir, parts, problems, espeak_bin, said_only)

    spoken = tuple(p.lang for p in parts)
    outcome = f"spoken in {', '.join(spoken)} only" if spoken else "chime only"
    for problem in problems:
        _warn_once(problem, f"Announcement of ticket {code} at counter {counter_number}: "
                            f"{problem}; {outcome}")
    return AnnouncementAudio(
        path=path,
        duration_s=length,
        languages_spoken=spoken,
        fell_back=len(spoken) < len(wanted) or not wanted,
        reason="; ".join(problems),
        cached=cached,
        elapsed_ms=(time.perf_counter() - started) * 1000.0,
    )


def warm_up(espeak_bin: str = espeak.DEFAULT_BIN) -> bool:
    """Probe espeak-ng and build the chime now (server start-up) instead of on the first call,
    which otherwise pays ~50-150 ms extra. Returns whether espeak-ng is available."""
    chime_pcm(DEFAULT_RATE)
    info = espeak.espeak_info(espeak_bin)
    if info is None:
        log.warning("%s is not installed: announcements will be the chime only", espeak_bin)
    return info is not None


def _language_list(languages: str | Iterable[str]) -> list[str]:
    if isinstance(languages, str):
        languages = [languages]
    result: list[str] = []
    for lang in languages:
        lang = str(lang).strip().lower()
        if lang and lang not in result:
            result.append(lang)
    return result


def _plan(code, counter_number, wanted, espeak_bin) -> tuple[list[_Part], list[str]]:
    problems: list[str] = []
    try:
        parse_code(code)
    except ValueError:
        return [], [f"ticket code {code!r} cannot be spoken"]
    if not wanted:
        return [], ["no announcement language configured"]
    info = espeak.espeak_info(espeak_bin)
    if info is None:
        return [], [f"{espeak_bin} is not installed (apt-get install espeak-ng)"]
    parts: list[_Part] = []
    for lang in wanted:
        voice = espeak.voice_for(lang)
        if not info.has_voice(voice):
            problems.append(f"espeak-ng has no voice for language {lang!r}")
        elif lang not in PHRASE_TEMPLATES:
            problems.append(f"no announcement phrase for language {lang!r}")
        else:
            letter_voice = LETTER_VOICE.get(lang)
            letter_voice_ok = letter_voice is None or info.has_voice(letter_voice)
            ssml = phrase_ssml(code, counter_number, lang, letter_voice_ok)
            said = tuple(phrase_pieces(code, counter_number, lang, letter_voice_ok))
            parts.append(_Part(lang, voice, ssml, said))
    return parts, problems


def _cache_key(parts: list[_Part], espeak_bin: str) -> str:
    info = espeak.espeak_info(espeak_bin) if parts else None
    material = {
        "audio": AUDIO_VERSION,
        "chime": CHIME_VERSION,
        "espeak": info.version if info else None,
        "speed": espeak.SPEED_WPM,
        "parts": [[p.lang, p.voice, p.ssml] for p in parts],
    }
    blob = json.dumps(material, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]


def _build(cache_dir: Path, parts: list[_Part], problems: list[str], espeak_bin: str,
           said_only: bool = False):
    """Synthesize, assemble and store. Returns (path, parts actually spoken, duration)."""
    spoken: list[tuple[_Part, int, bytes]] = []
    for part in parts:
        try:
            rate, pcm = pieces.speak(list(part.pieces), cache_dir, espeak_bin=espeak_bin,
                                     said_only=said_only)
        except espeak.SynthesisError as exc:
            problems.append(str(exc))
            continue
        spoken.append((part, rate, pcm))

    rate = spoken[0][1] if spoken else DEFAULT_RATE
    chunks = [chime_pcm(rate)]
    for i, (_, part_rate, pcm) in enumerate(spoken):
        if i:
            chunks.append(silence(rate, GAP_BETWEEN_LANGUAGES_S))
        chunks.append(resample(pcm, part_rate, rate))
    if spoken:
        chunks.append(silence(rate, END_PAD_S))

    kept = [part for part, _, _ in spoken]
    # A part that failed to synthesize is not in the file: store it under the key of what it holds.
    path = cache_dir / f"call-{_cache_key(kept, espeak_bin)}.wav"
    write_wav_atomic(path, rate, chunks)
    _maybe_prune(cache_dir)
    frames = sum(len(c) for c in chunks) // 2
    return path, kept, frames / rate


def _warn_once(cause: str, message: str) -> None:
    # One warning per distinct cause, then debug: a branch that configured Tamazight must not
    # flood the log with one warning per call.
    if cause in _warned:
        log.debug(message)
    else:
        _warned.add(cause)
        log.warning(message)


def _maybe_prune(cache_dir: Path) -> None:
    global _writes_since_prune
    with _prune_lock:
        _writes_since_prune += 1
        if _writes_since_prune < PRUNE_EVERY:
            return
        _writes_since_prune = 0
    prune_cache(cache_dir, PRUNE_MAX_BYTES)


def prune_cache(cache_dir: str | Path, max_bytes: int = PRUNE_MAX_BYTES) -> int:
    """Delete the oldest cached announcements and spoken pieces until the directory holds
    at most ``max_bytes`` (a piece deleted is spoken again when a call needs it).
    Returns the number of files removed."""
    files = []
    cache_dir = Path(cache_dir)
    for entry in [*cache_dir.glob("call-*.wav"), *cache_dir.glob("pieces/*.wav")]:
        try:
            stat = entry.stat()
        except FileNotFoundError:
            continue
        files.append((stat.st_mtime, stat.st_size, entry))
    total = sum(size for _, size, _ in files)
    removed = 0
    for _, size, entry in sorted(files):
        if total <= max_bytes:
            break
        try:
            entry.unlink()
        except FileNotFoundError:
            pass
        total -= size
        removed += 1
    return removed
