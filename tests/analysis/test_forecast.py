"""Completion forecast: monthly pace, completion dates and their bootstrap interval, checked by hand."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import shapely

from landrelease.actions.release import refresh_ledger
from landrelease.analysis.burn_down import burn_down_series, write_burn_down
from landrelease.analysis.forecast import Pace, completion, forecast_of, month_index, monthly_pace
from landrelease.domain.records import Change, NewFeature
from landrelease.errors import InvalidInput
from landrelease.store import Store
from landrelease.store.geopackage.schema import LEDGER_CHANGES

WHO = Change("im.officer", "test")
AS_OF = date(2026, 4, 15)


def _months(*labels: str) -> np.ndarray:  # type: ignore[type-arg]
    return np.array([month_index(m) for m in labels], dtype=np.int64)


def test_monthly_pace_counts_empty_months_as_zero_and_leaves_the_partial_month_out() -> None:
    months = _months("2025-12", "2026-01", "2026-01", "2026-03", "2026-04")
    released = np.array([7.0, 10.0, 5.0, 20.0, 99.0])
    pace = monthly_pace(months, released, AS_OF, window=3)
    assert pace.months == ["2026-01", "2026-02", "2026-03"]
    assert pace.released_m2.tolist() == [15.0, 0.0, 20.0]
    assert pace.partial_m2 == 99.0
    assert pace.mean == pytest.approx(35 / 3)
    assert pace.sd == pytest.approx(float(np.std([15.0, 0.0, 20.0], ddof=1)))


def test_a_programme_younger_than_the_window_is_measured_from_its_first_release() -> None:
    months = _months("2026-02", "2026-03")
    pace = monthly_pace(months, np.array([1.0, 2.0]), AS_OF, window=12, first_month=month_index("2026-02"))
    assert pace.months == ["2026-02", "2026-03"]


def test_completion_at_a_steady_pace_by_hand() -> None:
    pace = Pace([f"2025-{m:02d}" for m in range(4, 13)] + ["2026-01", "2026-02", "2026-03"], np.full(12, 100.0))
    c = completion(1200.0, pace, AS_OF)
    assert c.months == pytest.approx(12.0)
    # 12 months of 365.25 / 12 days = 365 days (rounded) after 2026-04-15.
    assert c.date == "2027-04-15"
    # Every resample of a steady pace is the same pace: the interval is the point.
    assert c.interval == ("2027-04-15", "2027-04-15")
    assert c.rate_interval == (100.0, 100.0)
    twice = completion(1200.0, pace, AS_OF, scale=2.0)
    assert twice.months == pytest.approx(6.0)


def test_the_interval_holds_the_point_and_is_deterministic() -> None:
    pace = Pace(["a"] * 6, np.array([53.1, 147.7, 101.3, 0.0, 212.9, 85.0]))
    c = completion(10_000.0, pace, AS_OF)
    assert c.months == pytest.approx(10_000.0 / 100.0)
    assert c.interval is not None and c.interval[0] is not None and c.interval[1] is not None
    assert c.date is not None and c.interval[0] < c.date < c.interval[1]
    assert completion(10_000.0, pace, AS_OF) == c
    assert completion(10_000.0, pace, AS_OF, seed=1) != c


@pytest.mark.parametrize(
    ("remaining", "released", "reason"),
    [
        (1000.0, [0.0] * 12, "no land released in the last 12 months"),
        (1000.0, [0.0] * 10 + [5.0, 5.0], "too little history: 2 of the last 12 months"),
        (1000.0, [5.0, 5.0], "too little history: 2 of the last 2 months"),
        (0.0, [5.0] * 12, "nothing remains"),
    ],
)
def test_no_date_is_given_without_a_pace_and_it_says_why(remaining: float, released: list[float], reason: str) -> None:
    c = completion(remaining, Pace(["m"] * len(released), np.array(released)), AS_OF)
    assert c.reason is not None and c.reason.startswith(reason)
    if remaining > 0:
        assert c.date is None and c.interval is None


# --- over a database ------------------------------------------------------------------------------------


def _strip(x0: float, x1: float) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(x0, 49.0, x1, 49.01)])


def _programme(store: Store) -> list[str]:
    hazards = store.add(
        "hazards",
        [
            NewFeature({"hazard_class": "CHA", "status": "worked_on", "admin_area": "AD-1"}, _strip(36.0, 36.04)),
            NewFeature({"hazard_class": "SHA", "status": "worked_on", "admin_area": "AD-2"}, _strip(36.1, 36.14)),
            # Reported after the as-of date: not known then.
            NewFeature(
                {"hazard_class": "SHA", "status": "active", "admin_area": "AD-2", "reported_date": "2026-06-01"},
                _strip(36.2, 36.24),
            ),
        ],
        WHO,
    )
    a, b, _ = hazards
    released = [
        (a, 36.00, 36.01, "2026-01-10", "Team 1"),
        (a, 36.01, 36.02, "2026-02-10", "Team 1"),
        (a, 36.02, 36.03, "2026-03-10", "Team 2"),
        (b, 36.10, 36.11, "2026-03-20", "Team 3"),
        (b, 36.11, 36.12, "2026-05-10", "Team 3"),  # after the as-of date: still remaining then
    ]
    store.add(
        "outcomes",
        [
            NewFeature({"hazard_id": h, "kind": "cleared", "release_date": d}, _strip(x0, x1))
            for h, x0, x1, d, _ in released
        ],
        WHO,
    )
    store.add(
        "activities",
        [
            NewFeature(
                {
                    "hazard_id": h,
                    "activity_type": "clearance",
                    "status": "completed",
                    "organisation": "Op",
                    "team": t,
                    "start_date": d[:8] + "01",
                    "end_date": d,
                },
                _strip(x0, x1),
            )
            for h, x0, x1, d, t in released
        ],
        WHO,
    )
    refresh_ledger(store)
    return hazards


def test_forecast_of_a_database_by_hand(gpkg: Store) -> None:
    a, b, _late = _programme(gpkg)
    _, _, o = gpkg.columns("outcomes", ["hazard_id", "released_m2", "release_date"], geometry=False)
    credit = [float(x) for x in o["released_m2"]]  # type: ignore[arg-type]
    h_ids, _, h = gpkg.columns("hazards", ["remaining_m2"], geometry=False)
    # The hazard reported after the as-of date is in the database, and left out of the figures below.
    assert _late in h_ids
    remaining = dict(zip(h_ids, [float(x) for x in h["remaining_m2"]], strict=True))  # type: ignore[arg-type]

    report = forecast_of(gpkg, as_of=AS_OF, by="admin", teams=6, window=3)
    national = report.national
    assert national.remaining_m2 == pytest.approx(remaining[a] + remaining[b] + credit[4])
    assert national.pace.months == ["2026-01", "2026-02", "2026-03"]
    assert national.pace.released_m2 == pytest.approx([credit[0], credit[1], credit[2] + credit[3]])
    assert national.teams_now == 3
    expected_months = national.remaining_m2 / (sum(credit[:4]) / 3)
    assert national.completion.months == pytest.approx(expected_months)
    assert national.scenario is not None and national.scenario.months == pytest.approx(expected_months / 2)

    groups = {g.key: g for g in report.groups}
    assert groups["AD-1"].remaining_m2 == pytest.approx(remaining[a])
    assert groups["AD-1"].teams_now == 2
    assert groups["AD-2"].remaining_m2 == pytest.approx(remaining[b] + credit[4])
    # AD-2 released land in one month of three: too little history for a date.
    assert groups["AD-2"].completion.date is None
    assert "too little history" in (groups["AD-2"].completion.reason or "")

    data = report.as_dict()
    assert data["remaining_m2"] == national.remaining_m2
    assert data["bootstrap"] == {"samples": 2000, "seed": 20261124}


def test_bad_options_are_refused_in_words(gpkg: Store) -> None:
    with pytest.raises(InvalidInput, match="--by takes admin"):
        forecast_of(gpkg, as_of=AS_OF, by="operator")
    with pytest.raises(InvalidInput, match="--window"):
        forecast_of(gpkg, as_of=AS_OF, window=1)
    with pytest.raises(InvalidInput, match="--teams"):
        forecast_of(gpkg, as_of=AS_OF, teams=-1)


def test_burn_down_series_and_chart(gpkg: Store, tmp_path: Path) -> None:
    _programme(gpkg)
    national = forecast_of(gpkg, as_of=AS_OF, teams=6, window=3).national
    days, remaining = burn_down_series(national)
    assert days == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), AS_OF]
    # At the start of January everything released since was still there.
    assert remaining[0] == pytest.approx(national.remaining_m2 + float(national.pace.released_m2.sum()))
    assert remaining[-1] == national.remaining_m2
    assert remaining == sorted(remaining, reverse=True)
    chart = tmp_path / "burn.png"
    write_burn_down(national, chart)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidInput, match="PNG"):
        write_burn_down(national, tmp_path / "burn.pdf")


def test_a_stale_ledger_gives_the_same_forecast_from_the_polygons(gpkg: Store, db_path: Path) -> None:
    _programme(gpkg)
    stored = forecast_of(gpkg, as_of=AS_OF, by="admin", teams=6, window=3)
    # An edit made in QGIS is counted: the stored figures are no longer used, the polygons are.
    with closing(sqlite3.connect(db_path)) as con, con:
        con.execute("UPDATE lr_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?", (LEDGER_CHANGES,))
    assert not gpkg.ledger_state().current
    computed = forecast_of(gpkg, as_of=AS_OF, by="admin", teams=6, window=3)
    for old, new in zip([stored.national, *stored.groups], [computed.national, *computed.groups], strict=True):
        assert (new.key, new.teams_now, new.pace.months) == (old.key, old.teams_now, old.pace.months)
        assert new.remaining_m2 == pytest.approx(old.remaining_m2)
        assert new.pace.released_m2 == pytest.approx(old.pace.released_m2)
        assert new.completion.date == old.completion.date and new.completion.reason == old.completion.reason
