"""The helper process the gevent server makes its announcement audio in."""
from display.announce.wavfile import read_pcm, rms
from display.announce.worker import SynthesisWorker


def test_the_helper_makes_audio_and_comes_back_after_dying(tmp_path):
    worker = SynthesisWorker().start()
    try:
        a = worker.audio("A-042", 3, ["ar", "fr"], tmp_path)
        assert a.languages_spoken == ("ar", "fr") and not a.fell_back
        rate, pcm = read_pcm(a.path)
        assert a.duration_s > 2 and rms(pcm) > 500
        worker._proc.kill()
        worker._proc.wait(5)
        again = worker.audio("B-007", 2, ["fr"], tmp_path)  # a new helper takes over
        assert again.languages_spoken == ("fr",) and again.path.exists()
        bad = worker.audio("A-042", 3, ["zgh"], tmp_path)  # no voice: the chime, said why
        assert bad.fell_back and "zgh" in bad.reason
    finally:
        worker.stop()


def test_the_helper_says_the_common_pieces_ahead_when_it_starts(tmp_path):
    import time

    from display.announce.worker import WARM_NUMBERS

    worker = SynthesisWorker(tmp_path).start()
    try:
        # ar, fr, en: the numbers and the phrase's words; an Arabic call's letter A is
        # the French one
        expected = 3 * (len(WARM_NUMBERS) + 3) - 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(list((tmp_path / "pieces").glob("*.wav"))) >= expected:
                break
            time.sleep(0.2)
        assert len(list((tmp_path / "pieces").glob("*.wav"))) == expected
        a = worker.audio("A-042", 7, ["ar", "fr"], tmp_path)  # while or after warming
        assert a.languages_spoken == ("ar", "fr") and not a.fell_back
    finally:
        worker.stop()
