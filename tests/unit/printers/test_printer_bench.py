from printers.bench import measure


def test_bench_reports_time_and_bytes():
    figures = measure(runs=3)
    assert set(figures) == {"ticket_render_encode_ms_median", "ticket_bytes_ar_fr_80mm"}
    assert 0 < figures["ticket_render_encode_ms_median"] < 1000
    assert 5_000 < figures["ticket_bytes_ar_fr_80mm"] < 20_000
