from __future__ import annotations

import math

from lib_common.metrics import Exposition, Histogram, by_label


def test_histogram_buckets_and_quantiles() -> None:
    h = Histogram([10, 100, 1000])
    for v in (5, 50, 50, 500, 5000):
        h.observe(v)
    assert h.counts == [1, 2, 1, 1]
    assert h.quantile(0.5) == 100
    assert h.quantile(1.0) == math.inf
    assert Histogram([1]).quantile(0.5) is None


def test_a_value_observed_many_times_at_once_counts_as_each() -> None:
    once, many = Histogram([10, 100]), Histogram([10, 100])
    for _ in range(3):
        once.observe(50)
    many.observe(50, 3)
    many.observe(500, 0)
    assert (many.counts, many.sum, many.count) == (once.counts, once.sum, once.count) == ([0, 3, 0], 150, 3)


def test_exposition_text() -> None:
    h = Histogram([10, 100])
    h.observe(20)
    out = Exposition()
    out.counter("x_total", "Things.", 3)
    out.gauges("y", "Per tenant.", [({"tenant": 'a"b'}, 1.5)])
    out.histogram("lat_seconds", "Latency.", h, scale=1e-6)
    text = out.render()
    assert "# TYPE x_total counter\nx_total 3\n" in text
    assert 'y{tenant="a\\"b"} 1.5' in text
    assert 'lat_seconds_bucket{le="1e-05"} 0' in text
    assert 'lat_seconds_bucket{le="0.0001"} 1' in text
    assert 'lat_seconds_bucket{le="+Inf"} 1' in text
    assert "lat_seconds_count 1" in text


def test_a_mapping_becomes_one_labelled_sample_per_key_in_key_order() -> None:
    out = Exposition()
    out.counters("drops_total", "Drops, by reason.", by_label("reason", {"stall": 2, "bad json": 1}))
    assert out.render().splitlines()[2:] == ['drops_total{reason="bad json"} 1', 'drops_total{reason="stall"} 2']
