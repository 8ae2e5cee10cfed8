"""The burn-down chart of a completion forecast: remaining land over the window, and its projection."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from landrelease.analysis.forecast import DAYS_PER_MONTH, Completion, Forecast
from landrelease.errors import InvalidInput

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def burn_down_series(forecast: Forecast) -> tuple[list[date], list[float]]:
    """Remaining land (m2) at the start of each window month and at as-of: today's remaining plus what was
    released since."""
    released = forecast.pace.released_m2
    later = np.concatenate((np.cumsum(released[::-1])[::-1], [0.0])) + forecast.pace.partial_m2
    starts = [date(int(m[:4]), int(m[5:7]), 1) for m in forecast.pace.months]
    as_of = date.fromisoformat(forecast.as_of)
    return [*starts, as_of], [forecast.remaining_m2 + float(x) for x in later[:-1]] + [forecast.remaining_m2]


def write_burn_down(forecast: Forecast, path: Path) -> None:
    """Draw the chart into a PNG file (matplotlib, no display needed)."""
    if path.suffix.lower() != ".png":
        raise InvalidInput(f"the chart is written as PNG: give a file name ending in .png, not {path.name!r}")
    if not path.parent.exists():
        raise InvalidInput(f"no folder {path.parent} to write the chart into")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days, remaining = burn_down_series(forecast)
    as_of = date.fromisoformat(forecast.as_of)
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=120)
    try:
        ax.plot(
            _days(days),
            [r / 1e6 for r in remaining],
            color="#1f4e79",
            marker="o",
            ms=3,
            label="remaining (recorded)",
        )
        _projection(ax, forecast.completion, forecast.remaining_m2, as_of, "#c0504d", "at the recent pace")
        if forecast.scenario is not None and forecast.scenario_teams is not None:
            _projection(
                ax,
                forecast.scenario,
                forecast.remaining_m2,
                as_of,
                "#4f8a3c",
                f"with {forecast.scenario_teams} teams (now {forecast.teams_now})",
            )
        top = max(remaining) / 1e6
        ax.plot(_days([as_of, as_of]), [0.0, top], color="grey", lw=0.8, ls=":")
        ax.set_ylabel("remaining hazardous area (km²)")
        ax.set_ylim(bottom=0)
        title = f"Burn-down: {forecast.name}, as of {forecast.as_of}"
        if forecast.completion.date is None:
            title += f"\n{forecast.completion.reason}"
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)


def _projection(ax: Axes, c: Completion, remaining_m2: float, as_of: date, colour: str, label: str) -> None:
    """The projected line to the completion date, and the interval as a band between the fast and slow pace."""
    if c.months is None or c.months_interval is None:
        return
    end = as_of + timedelta(days=round(c.months * DAYS_PER_MONTH))
    ax.plot(_days([as_of, end]), [remaining_m2 / 1e6, 0.0], color=colour, ls="--", label=f"{label}: {c.date}")
    early, late = c.months_interval
    if early is not None and late is not None:
        fast = as_of + timedelta(days=round(early * DAYS_PER_MONTH))
        slow = as_of + timedelta(days=round(late * DAYS_PER_MONTH))
        ax.fill(
            _days([as_of, fast, slow]),
            [remaining_m2 / 1e6, 0.0, 0.0],
            color=colour,
            alpha=0.15,
            label=f"interval {c.interval[0] if c.interval else ''} to {c.interval[1] if c.interval else ''}",
        )


def _days(days: list[date]) -> npt.NDArray[np.datetime64]:
    """Dates as numpy days: matplotlib places them on a date axis."""
    return np.array(days, dtype="datetime64[D]")
