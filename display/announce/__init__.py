"""Offline call announcements: a chime, then the call spoken by espeak-ng in one or more
languages, as one cached WAV file per announcement.

    from display.announce import announcement_audio
    audio = announcement_audio("A-042", 3, ["ar", "fr"], "var/audio")
    audio.path  # serve this file to the wall displays
"""

from .audio import (
    DEFAULT_CACHE_DIR,
    AnnouncementAudio,
    announcement_audio,
    prune_cache,
    warm_up,
)
from .chime import chime_duration_s
from .espeak import synthesis_count
from .phrases import PHRASE_TEMPLATES, parse_code, phrase_ssml, phrase_text

__all__ = [
    "AnnouncementAudio",
    "DEFAULT_CACHE_DIR",
    "PHRASE_TEMPLATES",
    "announcement_audio",
    "chime_duration_s",
    "parse_code",
    "phrase_ssml",
    "phrase_text",
    "prune_cache",
    "synthesis_count",
    "warm_up",
]
