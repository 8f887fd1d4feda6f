"""Announcement audio made in a small helper process.

The queue server forks for every espeak-ng run otherwise, and under gevent a
fork of the whole server process blocks the loop that is delivering calls to
the displays. This process is started once (while the server is still small),
reads one JSON request per line on stdin and answers one JSON line on stdout:

    {"code": "A-042", "counter": 3, "languages": ["ar", "fr"], "cache_dir": "var/audio"}
    -> {"path": ..., "duration_s": ..., "languages_spoken": [...], "fell_back": ..., "reason": ...}

Its espeak-ng runs are niced: the voice never takes the CPU from the server.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from .audio import AnnouncementAudio


class SynthesisWorker:
    """The server's side: one long-lived helper, one request at a time."""

    def __init__(self, warm_dir: str | Path | None = None):
        """``warm_dir``: the audio cache where the helper says the common pieces ahead
        (pieces.warm), in the background, when it starts."""
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.warm_dir = warm_dir

    def start(self) -> "SynthesisWorker":
        root = Path(__file__).resolve().parents[2]
        warm = [str(self.warm_dir)] if self.warm_dir is not None else []
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "display.announce.worker", *warm], cwd=root,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            env={**os.environ, "PYTHONPATH": str(root)})
        return self

    def audio(self, code: str, counter: int, languages, cache_dir) -> AnnouncementAudio:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self.start()  # it died: a new one (the request is not lost)
            self._proc.stdin.write(json.dumps({"code": code, "counter": counter,
                                               "languages": list(languages),
                                               "cache_dir": str(cache_dir)}) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the announcement helper process stopped")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return AnnouncementAudio(path=Path(answer["path"]), duration_s=answer["duration_s"],
                                 languages_spoken=tuple(answer["languages_spoken"]),
                                 fell_back=answer["fell_back"], reason=answer["reason"],
                                 cached=answer["cached"], elapsed_ms=answer["elapsed_ms"])

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait(5)


WARM_NUMBERS = range(0, 100)  # said ahead at start: most calls need nothing else


def main() -> int:
    os.nice(10)
    from . import announcement_audio, warm_up
    from .phrases import supported_languages
    from .pieces import warm
    warm_up()
    if len(sys.argv) > 1:  # the cache to say the common pieces ahead in
        threading.Thread(target=_warm, args=(warm, supported_languages(), sys.argv[1]),
                         daemon=True, name="warm-pieces").start()
    for line in sys.stdin:
        try:
            req = json.loads(line)
            a = announcement_audio(req["code"], req["counter"], req["languages"],
                                   req["cache_dir"])
            out = {"path": str(a.path), "duration_s": a.duration_s,
                   "languages_spoken": list(a.languages_spoken), "fell_back": a.fell_back,
                   "reason": a.reason, "cached": a.cached, "elapsed_ms": a.elapsed_ms}
        except Exception as exc:  # answered, so the server's worker goes on
            out = {"error": f"{exc.__class__.__name__}: {exc}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    return 0


def _warm(warm, langs, cache_dir) -> None:
    try:
        warm(WARM_NUMBERS, langs, cache_dir)
    except Exception as exc:  # the calls still speak, piece by piece
        sys.stderr.write(f"announcement pieces not said ahead: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
