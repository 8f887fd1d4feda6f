"""Wall displays, spoken announcements and serial counter displays.

- ``display.announce``: offline call announcements (chime + espeak-ng speech), cached WAV files.
- ``display.serial_display``: LED counter displays and keypads on RS-232/RS-485 (pyserial).
- ``display.bench``: timing of announcement generation.
"""
