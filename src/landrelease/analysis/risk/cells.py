"""Grid cells as the risk model sees them: a position, a survey outcome, a group, covariates."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

MINED, CLEAN, UNKNOWN = 1, 0, -1


@dataclass(frozen=True)
class CellTable:
    """Cells, one row each. ``label`` is 1 (mines found), 0 (surveyed, none found) or -1 (not known).

    An unknown cell is never a negative: most of it has simply not been surveyed.
    """

    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    label: npt.NDArray[np.int8]
    groups: npt.NDArray[np.str_] | None
    numeric: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)  # NaN where missing
    categorical: dict[str, npt.NDArray[np.str_]] = field(default_factory=dict)  # "" where missing
    row: npt.NDArray[np.int64] | None = None  # the row of the source file (1 = first data row)

    def __len__(self) -> int:
        return int(self.lat.size)

    @property
    def labelled(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.label != UNKNOWN, dtype=np.bool_)

    def subset(self, mask: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> CellTable:
        return CellTable(
            lat=self.lat[mask],
            lon=self.lon[mask],
            label=self.label[mask],
            groups=None if self.groups is None else self.groups[mask],
            numeric={k: v[mask] for k, v in self.numeric.items()},
            categorical={k: v[mask] for k, v in self.categorical.items()},
            row=None if self.row is None else self.row[mask],
        )


def parse_label(value: str) -> int | None:
    """1, 0 or -1 from a cell of the label column (empty = unknown); ``None`` if it is none of those."""
    text = value.strip().lower()
    if text in ("", "-1", "-1.0", "na", "nan", "null", "none", "unknown"):
        return UNKNOWN
    if text in ("1", "1.0", "true", "yes", "mined"):
        return MINED
    if text in ("0", "0.0", "false", "no", "clean"):
        return CLEAN
    return None


def spatial_blocks(
    lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64], size_deg: float = 0.1
) -> npt.NDArray[np.str_]:
    """Groups for validation when a file names none: square blocks of ``size_deg`` (about 11 km).

    Neighbouring cells share their context, so validating on random rows would flatter the model.
    """
    iy = np.floor(lat / size_deg).astype(np.int64)
    ix = np.floor(lon / size_deg).astype(np.int64)
    return np.array([f"block {y}:{x}" for y, x in zip(iy.tolist(), ix.tolist(), strict=True)], dtype=np.str_)
