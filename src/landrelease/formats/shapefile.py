"""Shapefile field names: at most 10 characters, kept whole through a ``.fields.txt`` sidecar.

GDAL truncates long names itself (``hazard_class`` -> ``hazard_cla``) with a warning and no record.
landrelease truncates them deterministically instead and writes the mapping next to the
``.shp`` (and into the zip), tab-separated with a comment for people; ``read_features`` uses it
to give back the full names, so an export re-imports exactly. Other tools simply ignore it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

MAX_NAME = 10
SIDECAR_SUFFIX = ".fields.txt"
_HEADER = (
    "# Shapefile field names are limited to 10 characters. Full names of the shortened ones:\n"
    "# name in the file\tfull name\tlabel\n"
)


def short_names(names: Sequence[str]) -> dict[str, str]:
    """A unique name of at most 10 characters for each of ``names`` (unchanged when short enough)."""
    used: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        candidate = name[:MAX_NAME]
        k = 1
        while candidate.lower() in used:
            suffix = str(k)
            candidate = name[: MAX_NAME - len(suffix)] + suffix
            k += 1
        used.add(candidate.lower())
        out[name] = candidate
    return out


def sidecar_path(shp: Path) -> Path:
    return shp.with_name(shp.stem + SIDECAR_SUFFIX)


def write_sidecar(shp: Path, renamed: Mapping[str, str], labels: Mapping[str, str]) -> Path | None:
    """Write the names GDAL would have lost; nothing when no name was shortened."""
    if not renamed:
        return None
    path = sidecar_path(shp)
    lines = [f"{short}\t{full}\t{labels.get(full, '')}\n" for full, short in renamed.items()]
    path.write_text(_HEADER + "".join(lines), encoding="utf-8")
    return path


def read_sidecar(shp: Path, field_names: Sequence[str]) -> dict[str, str]:
    """Short name -> full name from the sidecar, if present and consistent with the file's fields."""
    path = sidecar_path(shp)
    if not path.is_file() or path.stat().st_size > 1024**2:
        return {}
    mapping: dict[str, str] = {}
    for line in path.read_text("utf-8", errors="replace").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) >= 2 and cells[0] and cells[1]:
            mapping[cells[0]] = cells[1]
    present = set(field_names)
    if not mapping or not set(mapping) <= present or set(mapping.values()) & (present - set(mapping)):
        return {}
    return mapping
