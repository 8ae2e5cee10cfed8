"""The PDF's figures, drawn with matplotlib (no internet tiles): the map of the area and the charts.

Each returns PNG bytes. DejaVu Sans (bundled with matplotlib) has Cyrillic, so Ukrainian labels render.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display: figures are written to files

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import shapely
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from landrelease.reporting.strings import text
from landrelease.store.protocol import Geometries

plt.rcParams["font.family"] = "DejaVu Sans"
STATUS_COLOURS = {"active": "#d7301f", "worked_on": "#fc8d59", "closed": "#969696", "handed_over": "#1a9850"}
KIND_COLOURS = {"released_before": "#d9d9d9", "cancelled": "#9ecae1", "reduced": "#4292c6", "cleared": "#08519c"}
REMAINING_COLOUR = "#f4a582"
DPI = 150


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _rings(geoms: Geometries) -> list[npt.NDArray[np.float64]]:
    """Exterior rings of every polygon part (holes are too small to see at report scale)."""
    parts = shapely.get_parts(geoms[~shapely.is_missing(geoms)]) if len(geoms) else np.empty(0, dtype=object)
    polygons = parts[shapely.get_type_id(parts) == 3] if len(parts) else parts
    return [np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(p))) for p in polygons]


def area_map(
    hazards: Geometries, statuses: Sequence[object], admin: Geometries, lang: str, *, max_hazards: int = 200_000
) -> bytes:
    """Admin areas outlined and hazards filled by status, in lon/lat scaled for the latitude."""
    fig, ax = plt.subplots(figsize=(8.0, 6.5))
    ax.add_collection(
        PolyCollection(_rings(admin), facecolors="#f7f7f7", edgecolors="#525252", linewidths=0.8, zorder=1)
    )
    handles: list[Patch] = [Patch(facecolor="#f7f7f7", edgecolor="#525252", label=text("admin_area_outline", lang))]
    status = np.array([str(s) for s in statuses], dtype=object)
    for name, colour in STATUS_COLOURS.items():
        sel = np.flatnonzero(status == name)[:max_hazards]
        if not sel.size:
            continue
        rings = _rings(hazards[sel])
        ax.add_collection(PolyCollection(rings, facecolors=colour, edgecolors=colour, linewidths=0.3, zorder=2))
        handles.append(Patch(facecolor=colour, label=f"{text(name, lang)} ({sel.size:,})"))
    both = np.concatenate([g for g in (hazards, admin) if len(g)]) if len(hazards) or len(admin) else hazards
    if len(both):
        x0, y0, x1, y1 = shapely.total_bounds(both)
        pad = max(x1 - x0, y1 - y0, 0.01) * 0.03
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
        ax.set_aspect(1 / np.cos(np.radians((y0 + y1) / 2)))
    ax.set_xlabel(text("longitude", lang))
    ax.set_ylabel(text("latitude", lang))
    ax.grid(True, linewidth=0.3, color="#bdbdbd")
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.9)
    return _png(fig)


def released_bars(keys: Sequence[str], figures: Sequence[dict[str, float]], lang: str) -> bytes:
    """Land released per month, quarter or year, stacked by kind (hectares)."""
    fig, ax = plt.subplots(figsize=(8.0, 3.4))
    x = np.arange(len(keys))
    bottom = np.zeros(len(keys))
    for kind in ("cancelled", "reduced", "cleared"):
        values = np.array([f.get(f"{kind}_m2", 0.0) for f in figures]) / 1e4
        ax.bar(x, values, bottom=bottom, color=KIND_COLOURS[kind], label=text(kind, lang))
        bottom += values
    ax.set_xticks(x, keys, rotation=90 if len(keys) > 12 else 0, fontsize=7)
    ax.set_ylabel(text("hectares", lang))
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", linewidth=0.3)
    return _png(fig)


def group_bars(names: Sequence[str], figures: Sequence[dict[str, float]], lang: str) -> bytes:
    """Per group: released before, cancelled, reduced, cleared and remaining (hectares), side by side."""
    fig, ax = plt.subplots(figsize=(8.0, 0.45 * len(names) + 1.4))
    y = np.arange(len(names))
    left = np.zeros(len(names))
    parts = [(k, KIND_COLOURS[k]) for k in ("released_before", "cancelled", "reduced", "cleared")]
    for kind, colour in [*parts, ("remaining", REMAINING_COLOUR)]:
        values = np.array([f.get(f"{kind}_m2", 0.0) for f in figures]) / 1e4
        ax.barh(y, values, left=left, color=colour, label=text(kind, lang))
        left += values
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(text("hectares", lang))
    ax.legend(fontsize=7, ncols=5, loc="upper center", bbox_to_anchor=(0.5, -0.18 if len(names) < 8 else -0.08))
    ax.grid(True, axis="x", linewidth=0.3)
    return _png(fig)


def beneficiary_bars(eore: dict[str, int], bands: Sequence[str], lang: str) -> bytes:
    """Risk education beneficiaries by age band, female and male side by side."""
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    x = np.arange(len(bands))
    for offset, sex, colour in ((-0.2, "female", "#c51b7d"), (0.2, "male", "#4d9221")):
        ax.bar(x + offset, [eore.get(f"{sex}_{b}", 0) for b in bands], width=0.4, color=colour, label=text(sex, lang))
    ax.set_xticks(x, [b.replace("_plus", "+").replace("_", "-") for b in bands])
    ax.set_xlabel(text("age", lang))
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", linewidth=0.3)
    return _png(fig)
