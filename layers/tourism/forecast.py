"""The next hour of a park's occupancy from its recent rate, and how wrong that has been.

The forecast is deliberately simple: the net rate (in minus out per minute) over the last
``window_min`` minutes, carried forward and kept at or above zero. Its error on held-out
demo days is measured by ``evaluate`` (bench/tourism.py prints it; docs/tourism.md states
it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
WINDOW_MIN = 15.0  # chosen on a tuning day of the demo (bench/tourism.py --forecast-only)
HORIZONS_MIN = (30, 60)


def forecast(
    minutes: Sequence[float] | FloatArray, occupancy: Sequence[float] | FloatArray,
    horizon_min: float,
    window_min: float = WINDOW_MIN,
) -> float | None:  # fmt: skip
    """Return the occupancy ``horizon_min`` after the last sample, from the recent net rate.

    ``minutes`` are the samples' times (ascending, in minutes); None without two samples
    in the window.
    """
    t = np.asarray(minutes, dtype=np.float64)
    y = np.asarray(occupancy, dtype=np.float64)
    if t.size < 2:
        return None
    recent = t >= t[-1] - window_min
    if recent.sum() < 2:
        return None
    first = int(np.flatnonzero(recent)[0])
    span = t[-1] - t[first]
    rate = (y[-1] - y[first]) / span if span > 0 else 0.0
    return max(0.0, float(y[-1] + rate * horizon_min))


def evaluate(curves: Sequence[FloatArray], step_min: float, horizon_min: float,
             window_min: float = WINDOW_MIN) -> tuple[float, float]:  # fmt: skip
    """Return the mean absolute error of forecasts over ``curves`` (occupancy every
    ``step_min`` minutes) and that error as a share of the curves' peaks.

    Every sample with a full window behind it and the horizon ahead is forecast once.
    """
    errors, peaks = [], []
    ahead = round(horizon_min / step_min)
    behind = round(window_min / step_min)
    for curve in curves:
        minutes = np.arange(curve.size, dtype=np.float64) * step_min
        for i in range(behind, curve.size - ahead):
            guess = forecast(minutes[i - behind: i + 1], curve[i - behind: i + 1],
                             horizon_min, window_min)  # fmt: skip
            assert guess is not None
            errors.append(abs(guess - curve[i + ahead]))
            peaks.append(curve.max())
    mae = float(np.mean(errors))
    return mae, float(np.mean(np.asarray(errors) / np.maximum(np.asarray(peaks), 1.0)))
