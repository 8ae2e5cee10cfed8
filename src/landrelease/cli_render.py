"""Tables for people at a terminal: m2, hectares and km2 as national reports show them."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from landrelease.analysis.land_release import LandReleaseReport


def _ha(m2: float) -> str:
    return f"{m2 / 10_000:,.1f}"


def render_land_release(console: Console, report: LandReleaseReport) -> None:
    t = report.totals
    span = f", {report.period.start} to {report.period.end}" if report.period else ""
    table = Table(title=f"Land release (hectares; geodesic, WGS84{span})", title_justify="left")
    # By time or donor, groups hold released land only (see analysis/land_release.py).
    month = report.by in ("month", "quarter", "year", "donor")
    labels = {"admin": "Admin area", "operator": "Operator", "month": "Month", "quarter": "Quarter", "year": "Year"}
    table.add_column(labels.get(report.by or "", "Donor" if report.by == "donor" else ""))
    if not month:
        table.add_column("Hazards", justify="right")
        table.add_column("Estimated", justify="right")
    else:
        table.add_column("Outcomes", justify="right")
    for name in ("Cancelled", "Reduced", "Cleared"):
        table.add_column(name, justify="right")
    table.add_column("Released" if month else "Remaining", justify="right")
    for g in report.groups:
        f = g.figures
        if month:
            table.add_row(
                g.name,
                str(f["outcomes"]),
                _ha(float(f["cancelled_m2"])),
                _ha(float(f["reduced_m2"])),
                _ha(float(f["cleared_m2"])),
                _ha(float(f["released_m2"])),
            )
        else:
            table.add_row(
                g.name,
                f"{int(f['hazards']):,}",
                _ha(float(f["estimated_m2"])),
                _ha(float(f["cancelled_m2"])),
                _ha(float(f["reduced_m2"])),
                _ha(float(f["cleared_m2"])),
                _ha(float(f["remaining_m2"])),
            )
    if month:
        released = t.cancelled_m2 + t.reduced_m2 + t.cleared_m2
        table.add_row(
            "Total",
            "",
            _ha(t.cancelled_m2),
            _ha(t.reduced_m2),
            _ha(t.cleared_m2),
            _ha(released),
            style="bold",
        )
    else:
        table.add_row(
            "Total" if report.groups else "All hazards",
            f"{t.hazards:,}",
            _ha(t.estimated_m2),
            _ha(t.cancelled_m2),
            _ha(t.reduced_m2),
            _ha(t.cleared_m2),
            _ha(t.remaining_m2),
            style="bold",
        )
    console.print(table)
    before = f"released before {report.released_before_m2 / 1e6:,.3f} + " if report.period else ""
    console.print(
        f"Estimated {t.estimated_m2 / 1e6:,.3f} km2 = {before}cancelled {t.cancelled_m2 / 1e6:,.3f} + reduced "
        f"{t.reduced_m2 / 1e6:,.3f} + cleared {t.cleared_m2 / 1e6:,.3f} + remaining {t.remaining_m2 / 1e6:,.3f} km2",
        markup=False,
    )
    if report.unlinked_outcomes:
        console.print(
            f"{report.unlinked_outcomes} outcomes are linked to no hazard and are not counted "
            "(run `landrelease check`)",
            markup=False,
        )
