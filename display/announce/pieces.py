"""An announcement's speech, assembled from pieces that espeak-ng speaks once.

A call is said from a handful of pieces ("ticket" | "B" | "42" | pause | "counter" |
"3", see ``phrases.phrase_pieces``). Each piece is synthesized the first time any call
needs it, trimmed of the silence espeak-ng puts around it, and kept: in memory (this
process) and as a WAV under ``<cache_dir>/pieces/`` (every server process, and the
next start). After a branch's first calls, a new call runs espeak-ng not at all: its
audio is a concatenation, a millisecond of work. Whole-phrase synthesis cost two
espeak-ng runs a call (~20 ms here, more on a loaded machine, where the niced helper
fell minutes behind the calls).

The pieces' keys hold everything that shapes their sound (espeak-ng's version, the
voice, the speed, the SSML, this module's version), like the calls' own cache.
"""

from __future__ import annotations

import hashlib
import json
import threading
import wave
from collections import OrderedDict
from pathlib import Path

from . import espeak
from .phrases import Piece
from .wavfile import (
    WavFormatError, _samples, _to_bytes, read_pcm, resample, silence, write_wav_atomic)

PIECES_VERSION = 1  # bump when trimming or spacing below changes
GAP_S = 0.07  # between two spoken pieces (espeak-ng's own gap between words is ~0.1 s)
SILENCE_LEVEL = 250  # |sample| at or under this is silence at a piece's ends
KEEP_S = 0.02  # of silence kept at each end, so no consonant is clipped
MEMORY_PIECES = 600  # pieces kept in memory (about 40 KB each)
SPLIT_BREAK_S = 1.0  # put between pieces said in one run ...
SPLIT_QUIET_S = 0.5  # ... and cut where it is this quiet this long (no word pauses so long)
WARM_BATCH = 25  # pieces said ahead in one run


class NotSaidYet(LookupError):
    """A piece of the call was never said (``said_only``): espeak-ng must run."""


_memory: OrderedDict[str, tuple[int, bytes]] = OrderedDict()  # by the piece's file
_lock = threading.Lock()


def speak(pieces: list[Piece], cache_dir: str | Path, rate: int | None = None,
          espeak_bin: str = espeak.DEFAULT_BIN, said_only: bool = False) -> tuple[int, bytes]:
    """(sample_rate, 16-bit mono PCM) of ``pieces`` said one after another.

    Raises espeak.SynthesisError when a piece cannot be spoken (the caller then leaves
    that language out and says why), NotSaidYet when ``said_only`` and a piece was
    never said."""
    said = known(pieces, cache_dir, espeak_bin, said_only)
    # the first spoken piece's rate, unless the caller's (espeak-ng's voices: 22050 Hz)
    rate = rate or next((said[p][0] for p in pieces if p.ssml), 22050)
    chunks: list[bytes] = []
    previous_spoken = False
    for piece in pieces:
        if not piece.ssml:
            chunks.append(silence(rate, piece.pause_s))
            previous_spoken = False
            continue
        piece_rate, pcm = said[piece]
        if previous_spoken:
            chunks.append(silence(rate, GAP_S))
        chunks.append(resample(pcm, piece_rate, rate))
        previous_spoken = True
    return rate, b"".join(chunks)


def known(pieces: list[Piece], cache_dir: str | Path, espeak_bin: str = espeak.DEFAULT_BIN,
          said_only: bool = False) -> dict[Piece, tuple[int, bytes]]:
    """Each spoken piece's trimmed audio: from memory, from disk, or spoken now and kept.
    The pieces never said before are said by one espeak-ng run per voice (the run's
    start, loading the voice, is most of its cost), then cut apart at the long pauses
    put between them."""
    found: dict[Piece, tuple[int, bytes]] = {}
    missing: dict[str, list[tuple[Piece, Path]]] = {}
    for piece in pieces:
        if not piece.ssml or piece in found:
            continue
        path = _path(piece, cache_dir, espeak_bin)
        audio = _recall(path)
        if audio is None:
            if all(p != piece for p, _ in missing.get(piece.lang, [])):
                missing.setdefault(piece.lang, []).append((piece, path))
        else:
            found[piece] = audio
    if missing and said_only:
        raise NotSaidYet(", ".join(p.ssml for group in missing.values() for p, _ in group))
    for lang, group in missing.items():
        for (piece, path), audio in zip(group, _say(lang, [p for p, _ in group], espeak_bin)):
            write_wav_atomic(path, audio[0], [audio[1]])
            _remember(path, audio)
            found[piece] = audio
    return found


def warm(numbers: range, langs, cache_dir: str | Path,
         espeak_bin: str = espeak.DEFAULT_BIN) -> int:
    """Say ahead the pieces most calls need (each language's phrase words, and
    ``numbers``, which are also the counters), a few at a time. Returns how many were
    new. A server's helper does it at start, once: the pieces stay on disk."""
    from .phrases import phrase_pieces

    new = 0
    for lang in langs:
        words = [p for p in phrase_pieces("A-1", 1, lang) if p.ssml]
        wanted = list(dict.fromkeys(words + [Piece(lang, f"<speak>{n}</speak>")
                                             for n in numbers]))
        for i in range(0, len(wanted), WARM_BATCH):
            batch = wanted[i:i + WARM_BATCH]
            missing = [p for p in batch if not _path(p, cache_dir, espeak_bin).exists()]
            if missing:
                known(missing, cache_dir, espeak_bin)
                new += len(missing)
    return new


def _recall(path: Path) -> tuple[int, bytes] | None:
    key = str(path)  # in memory, a piece is known where its file is
    with _lock:
        if key in _memory:
            _memory.move_to_end(key)
            return _memory[key]
    try:
        audio = read_pcm(path)
    except (OSError, EOFError, wave.Error, WavFormatError):  # not made yet, or unreadable
        return None
    _remember(path, audio)
    return audio


def _remember(path: Path, audio: tuple[int, bytes]) -> None:
    with _lock:
        _memory[str(path)] = audio
        while len(_memory) > MEMORY_PIECES:
            _memory.popitem(last=False)


def _say(lang: str, pieces: list[Piece], espeak_bin: str) -> list[tuple[int, bytes]]:
    """The pieces' trimmed audio, said in one espeak-ng run; one run each if the run
    cannot be cut into as many pieces (never seen, but the pieces must not shift)."""
    voice = espeak.voice_for(lang)
    if len(pieces) > 1:
        inner = [p.ssml.removeprefix("<speak>").removesuffix("</speak>") for p in pieces]
        joined = f'<break time="{int(SPLIT_BREAK_S * 1000)}ms"/>'.join(inner)
        rate, pcm = espeak.synthesize(f"<speak>{joined}</speak>", voice, espeak_bin)
        parts = split(pcm, rate)
        if len(parts) == len(pieces):
            return [(rate, part) for part in parts]
    out = []
    for piece in pieces:
        rate, pcm = espeak.synthesize(piece.ssml, voice, espeak_bin)
        out.append((rate, trim(pcm, rate)))
    return out


def _loud_blocks(samples, rate: int) -> list[bool]:
    """For each 5 ms block: is anything in it above the silence level (max/min of array
    slices: C speed, no loop over samples)."""
    size = max(1, rate // 200)
    return [max(samples[i:i + size]) > SILENCE_LEVEL or min(samples[i:i + size]) < -SILENCE_LEVEL
            for i in range(0, len(samples), size)]


def trim(pcm: bytes, rate: int) -> bytes:
    """``pcm`` without the silence before its first and after its last sound (keeping
    ``KEEP_S`` at each end)."""
    parts = split(pcm, rate, at_pauses=False)
    return parts[0] if parts else pcm  # nothing above the level: as espeak-ng made it


def split(pcm: bytes, rate: int, at_pauses: bool = True) -> list[bytes]:
    """The sounds of ``pcm``, each trimmed (``KEEP_S`` kept at each end); cut at every
    pause of ``SPLIT_QUIET_S`` or more when ``at_pauses``."""
    samples = _samples(pcm)
    size = max(1, rate // 200)
    loud = _loud_blocks(samples, rate)
    quiet_blocks = int(SPLIT_QUIET_S * 200)
    spans: list[list[int]] = []  # [first loud block, last loud block]
    for i, is_loud in enumerate(loud):
        if not is_loud:
            continue
        if spans and (not at_pauses or i - spans[-1][1] <= quiet_blocks):
            spans[-1][1] = i
        else:
            spans.append([i, i])
    keep = int(rate * KEEP_S)
    return [_to_bytes(samples[max(0, a * size - keep):min(len(samples), (b + 1) * size + keep)])
            for a, b in spans]


def forget() -> None:
    """Drop the pieces held in memory (tests; the files stay)."""
    with _lock:
        _memory.clear()


def _path(piece: Piece, cache_dir: str | Path, espeak_bin: str) -> Path:
    """Where a piece is kept: its name is the hash of what shapes its sound."""
    return Path(cache_dir) / "pieces" / f"{_key(piece, espeak_bin)}.wav"


def _key(piece: Piece, espeak_bin: str) -> str:
    info = espeak.espeak_info(espeak_bin)
    material = [PIECES_VERSION, info.version if info else None, espeak.SPEED_WPM,
                espeak.voice_for(piece.lang), piece.ssml]
    blob = json.dumps(material, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]
