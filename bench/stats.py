"""Medians with their spread, and ratios taken run by run so both sides share the machine's state."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """Repeated measurements of one figure; the median is the figure, min and max show how noisy it was."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> Sample:
        if not values:
            raise ValueError("a sample needs at least one value")
        return cls(tuple(float(value) for value in values))

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def runs(self) -> int:
        return len(self.values)

    def scaled(self, factor: float) -> Sample:
        return Sample(tuple(value * factor for value in self.values))

    def show(self, digits: int = 2, unit: str = "") -> str:
        """``1.23 s (1.10–1.40)``; a single run shows no range, so nobody mistakes it for a spread."""
        suffix = f" {unit}" if unit else ""
        median = f"{self.median:.{digits}f}{suffix}"
        if self.runs == 1:
            return median
        return f"{median} ({self.low:.{digits}f}–{self.high:.{digits}f})"


def ratios(subject: Sequence[float], baseline: Sequence[float]) -> Sample:
    """Subject over baseline, pairing the measurements of the same round."""
    if len(subject) != len(baseline):
        raise ValueError("ratios pair the runs of one round: both sides need as many runs")
    return Sample.of([s / b for s, b in zip(subject, baseline, strict=True)])


def rates(amount: float, seconds: Sample) -> Sample:
    """Per-second rates of each run (pages/s, requests/s): the median rate, not the rate of the median."""
    return Sample.of([amount / value for value in seconds.values])


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile, the definition load tools report (p95 of 20 values is the 19th)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * fraction // 1)))
    return ordered[int(rank) - 1]
