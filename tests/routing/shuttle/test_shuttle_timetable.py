"""Backward timetables: latest departures, dwell plus boarding at each stop."""

from __future__ import annotations

import pytest

from routing.shuttle.timetable import schedule_backward


def test_schedule_backward_arrives_at_deadline() -> None:
    """Times count back from the arrival: drive, then dwell + boarding, stop by stop."""
    times = schedule_backward([0, 1], [3, 2], [100, 200], arrival=10_000, dwell_s=30, boarding_s=5)
    # Stop 1 departs 200 s before arrival and stops 30 + 2 x 5 s.
    assert times[1] == (10_000 - 200 - 40, 10_000 - 200)
    assert times[0] == (times[1][0] - 100 - 45, times[1][0] - 100)


def test_schedule_backward_checks_lengths() -> None:
    """Mismatched inputs are an error, not a silent truncation."""
    with pytest.raises(ValueError, match="Expected 2"):
        schedule_backward([0, 1], [1], [1, 2], arrival=0, dwell_s=0, boarding_s=0)
