"""The arithmetic every benchmark figure goes through."""

from __future__ import annotations

import pytest

from bench.stats import Sample, percentile, rates, ratios


def test_a_sample_shows_its_median_and_its_spread() -> None:
    sample = Sample.of([3.0, 1.0, 2.0, 10.0])
    assert (sample.median, sample.low, sample.high) == (2.5, 1.0, 10.0)
    assert sample.show(1, "s") == "2.5 s (1.0–10.0)"
    assert Sample.of([4.0]).show(2) == "4.00"  # one run has no spread to show
    with pytest.raises(ValueError):
        Sample.of([])


def test_ratios_pair_the_runs_of_the_same_round() -> None:
    # Round 2 ran on a slower machine for both sides: per-round ratios stay 1.1, the medians' ratio would not.
    assert ratios([1.1, 2.2, 1.1], [1.0, 2.0, 1.0]).values == pytest.approx((1.1, 1.1, 1.1))
    with pytest.raises(ValueError):
        ratios([1.0], [1.0, 2.0])


def test_rates_are_per_run() -> None:
    assert rates(10, Sample.of([1.0, 2.0, 5.0])).values == (10.0, 5.0, 2.0)


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 21)]
    assert percentile(values, 0.95) == 19.0
    assert percentile(values, 0.5) == 10.0
    assert percentile([7.0], 0.95) == 7.0
