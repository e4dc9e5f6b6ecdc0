"""The metrics' duration figures (dashboard.enrolment.metrics, rollup): what they mean.

A duration is counted in whole hundredths of a day (the page's resolution): its seconds,
rounded to the second, then to the nearest hundredth, half up. Of those:

* the median is the conventional one (statistics.median): the middle value, or the mean
  of the two middle values for an even count;
* the 90th percentile is the nearest rank: the smallest value with at least 90 % of the
  values at or below it (value number ceil(0.9 n) in ascending order).

The histograms the rollups keep give the same figures as the list of values they count.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dashboard.enrolment import metrics, rollup

DIALECTS = ("sqlite", "postgresql")


def _histogram(values: list[int]):
    """The rollup's own way: packed per day, several packed rows added up by unpack."""
    half = len(values) // 2
    blobs = [rollup.pack(Counter((7, v) for v in part)) for part in (values[:half], values[half:])]
    return rollup.unpack([b for b in blobs if b])[7]


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.integers(min_value=0, max_value=20_000), min_size=1, max_size=60),
    dialect=st.sampled_from(DIALECTS),
)
@example(values=[138, 357], dialect="sqlite")  # the day: 1.38 shown for 2.475
@example(values=[100, 200, 300, 400], dialect="postgresql")
def test_the_median_is_statistics_median(values, dialect):
    histogram = _histogram(values)
    assert metrics.median(histogram, dialect) == statistics.median(values) / 100


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.integers(min_value=0, max_value=20_000), min_size=1, max_size=60),
    dialect=st.sampled_from(DIALECTS),
)
@example(values=list(range(100, 1100, 100)), dialect="sqlite")  # 1..10 days: p90 = 9
def test_the_90th_percentile_is_the_nearest_rank(values, dialect):
    ordered = sorted(values)
    expected = ordered[math.ceil(0.9 * len(values)) - 1]
    assert metrics.p90(_histogram(values), dialect) == expected / 100
    assert sum(v <= expected for v in values) >= 0.9 * len(values)
    assert sum(v < expected for v in values) < 0.9 * len(values)


def test_the_two_middle_values_are_averaged_not_the_lower_taken():
    # Four durations of 1.0, 1.38, 3.57 and 4.0 days: the median is 2.475, not 1.38.
    assert metrics.median(_histogram([100, 138, 357, 400]), "sqlite") == 2.475
    assert metrics.median(_histogram([138, 357]), "postgresql") == 2.475


def test_a_middle_value_the_database_could_not_compute_makes_no_median():
    for dialect in DIALECTS:
        null = rollup.hundredths(None, dialect)
        # SQLite sorts NULL first, PostgreSQL last: the marker takes that place.
        values = [null, 100] if dialect == "sqlite" else [100, null]
        assert metrics.median(_histogram(values), dialect) is None
        assert metrics.median(_histogram([*values, 100, 100, 100]), dialect) == 1.0


def test_an_empty_histogram_has_no_figure():
    assert metrics.median(None, "sqlite") is None
    assert metrics.p90(None, "postgresql") is None


@given(seconds=st.integers(min_value=0, max_value=400 * 86400))
@example(seconds=432)  # 0.005 day: half a hundredth, up
@example(seconds=3888)  # 0.045 day, which binary floating point puts just below the half
def test_hundredths_round_whole_seconds_half_up(seconds):
    expected = math.floor(Fraction(seconds, 864) + Fraction(1, 2))  # exact: half up
    got = rollup.hundredths(float(seconds), "sqlite")
    assert got == expected
    # SQLite's julianday() differences are a few microseconds off: the same hundredths.
    assert rollup.hundredths(seconds - 1e-5, "sqlite") == got
    assert rollup.hundredths(seconds + 1e-5, "postgresql") == got
    assert rollup.as_days(got, "sqlite") == got / 100
