"""Tables for people at a terminal: m2, hectares and km2 as national reports show them."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from landrelease.analysis.land_release import LandReleaseReport


def _ha(m2: float) -> str:
    return f"{m2 / 10_000:,.1f}"


def render_land_release(console: Console, report: LandReleaseReport) -> None:
    t = report.totals
    table = Table(title="Land release (hectares; geodesic, WGS84)", title_justify="left")
    month = report.by == "month"
    table.add_column("Month" if month else {"admin": "Admin area", "operator": "Operator"}.get(report.by or "", ""))
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
    console.print(
        f"Estimated {t.estimated_m2 / 1e6:,.3f} km2 = cancelled {t.cancelled_m2 / 1e6:,.3f} + reduced "
        f"{t.reduced_m2 / 1e6:,.3f} + cleared {t.cleared_m2 / 1e6:,.3f} + remaining {t.remaining_m2 / 1e6:,.3f} km2",
        markup=False,
    )
    if report.unlinked_outcomes:
        console.print(
            f"{report.unlinked_outcomes} outcomes are linked to no hazard and are not counted "
            "(run `landrelease check`)",
            markup=False,
        )
