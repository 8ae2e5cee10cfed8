"""Import of a national file against GDAL converting the same file to GeoPackage (pyogrio read + write).

Two inputs: a synthetic national file of 100,000 hazard polygons (GeoJSON and GeoPackage), and the real
BiH cleared areas (8,329 records, 709 invalid, 108 without geometry) when ../shared/data is present.
landrelease's import does more than the conversion (validation, repair, duplicate search, admin areas,
the ledger, history), so the ratio is the price of validation at the door.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import peak_rss_mb, synthetic_programme, timed
from landrelease.actions.imports import ImportOptions, import_file
from landrelease.store import open_store

BIH = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bih" / "cleared_areas.geojson"


def gdal_convert(src: Path, dst: Path) -> None:
    meta, _, geometry, fields = pyogrio.raw.read(src)
    pyogrio.raw.write(
        dst,
        geometry,
        fields,
        fields=meta["fields"],
        crs=meta["crs"],
        geometry_type=meta["geometry_type"],
        driver="GPKG",
        encoding="UTF-8",
    )


def our_import(src: Path, dst: Path, repair: bool) -> dict[str, object]:
    store = open_store(str(dst), create=True)
    try:
        summary = import_file(store, "hazards", src, ImportOptions(on_invalid="repair" if repair else "reject"))
    finally:
        store.close()
    return {"imported": summary.imported, "repaired": summary.repaired, "rejected": summary.rejected}


def bench(src: Path, tmp: Path, label: str, repair: bool) -> dict[str, object]:
    n = 0

    def convert() -> None:
        out = tmp / f"gdal-{n}.gpkg"
        out.unlink(missing_ok=True)
        gdal_convert(src, out)

    gdal_s, _ = timed(convert, repeat=2)

    def ours() -> dict[str, object]:
        out = tmp / "ours.gpkg"
        out.unlink(missing_ok=True)
        return our_import(src, out, repair)

    ours_s, summary = timed(ours, repeat=2)
    return {
        "input": label,
        "gdal_convert_s": round(gdal_s, 3),
        "landrelease_import_s": round(ours_s, 3),
        "ratio": round(ours_s / gdal_s, 2),
        **summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hazards", type=int, default=100_000)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        hazards, _, _, _ = synthetic_programme(args.hazards)
        names = np.array([f"Ділянка {i}" for i in range(len(hazards))], dtype=object)
        for ext, driver in (("gpkg", "GPKG"), ("geojson", "GeoJSON")):
            src = tmp / f"national.{ext}"
            pyogrio.raw.write(
                src,
                np.array([g.wkb for g in hazards], dtype=object),
                [names],
                fields=["name"],
                crs="EPSG:4326",
                geometry_type="Unknown",
                driver=driver,
                encoding="UTF-8",
            )
            results.append(bench(src, tmp, f"synthetic {args.hazards:,} polygons ({ext})", repair=False))
        if BIH.exists():
            results.append(bench(BIH, tmp, "BiH cleared areas, real (geojson, --on-invalid repair)", repair=True))
        else:
            print(f"skipped the real-data run: {BIH} is absent", file=sys.stderr)
    print(json.dumps({"results": results, "peak_rss_mb": round(peak_rss_mb())}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
