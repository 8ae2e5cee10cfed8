"""``polygons_at`` on PostGIS: a grid hash join that starts from the polygons, all in the server.

The places go to the server as ONE MultiPoint (WKB built with numpy, no Python object per place). The
polygons are cut into grid cells by their bounding boxes, the places fall in one cell each, and a hash join
on the cell pairs each place with the few polygons whose box shares its cell; only those pairs are tested
exactly (``ST_Intersects``). A GiST probe per place costs some 15 microseconds (15 s for a million places);
the join is a few seconds with no index on the places, so no temporary table: the query runs as well on a
read-only streaming replica as on the primary.

The cell is the larger of the root mean bounding-box area and the mean half perimeter of the polygons, so
the cells all polygons cover are at most about four per polygon (sum of wh/c2 <= n, of (w + h)/c <= 2n),
whatever mix of sizes the layer holds.
"""

from __future__ import annotations

import numpy as np
from psycopg import sql

from landrelease.store.places import Points

#: One WKB Point (little endian): byte order, type 1, x, y; packed, as WKB has no padding.
_POINT = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])


def multipoint_wkb(points: Points) -> bytes:
    """The places as one WKB MultiPoint, in order (its n-th point is place n)."""
    members = np.empty(len(points), dtype=_POINT)
    members["order"], members["kind"] = 1, 1
    members["x"], members["y"] = points[:, 0], points[:, 1]
    return b"\x01" + np.array([4, len(points)], dtype="<u4").tobytes() + members.tobytes()


#: For this query only: memory for the hash of the places (a million take about 100 MB), and no nested loop
#: or merge join (the planner cannot estimate the rows of ``ST_DumpPoints`` and ``generate_series``).
SETTINGS = (
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL enable_nestloop = off",
    "SET LOCAL enable_mergejoin = off",
    "SET LOCAL jit = off",
)


def query(layer: str) -> sql.Composed:
    """(place position from 0, record id) of every place in or on a polygon of ``layer``, by place then fid;
    one parameter: ``multipoint_wkb``. ``ST_DumpPoints`` numbers the points from 1 in ``path[1]``."""
    return sql.SQL(
        """
WITH grid AS MATERIALIZED (
  SELECT greatest(
    sqrt(avg((ST_XMax(geom) - ST_XMin(geom)) * (ST_YMax(geom) - ST_YMin(geom)))),
    avg(ST_XMax(geom) - ST_XMin(geom) + ST_YMax(geom) - ST_YMin(geom)) / 2,
    1e-9
  ) AS cell FROM {layer}
), covered AS MATERIALIZED (
  SELECT t.fid, cx, cy FROM grid, {layer} AS t,
    generate_series(floor(ST_XMin(t.geom) / grid.cell)::int8, floor(ST_XMax(t.geom) / grid.cell)::int8) AS cx,
    generate_series(floor(ST_YMin(t.geom) / grid.cell)::int8, floor(ST_YMax(t.geom) / grid.cell)::int8) AS cy
), places AS (
  SELECT d.path[1] - 1 AS place, d.geom,
    floor(ST_X(d.geom) / grid.cell)::int8 AS cx, floor(ST_Y(d.geom) / grid.cell)::int8 AS cy
  FROM grid, ST_DumpPoints(ST_GeomFromWKB(%s::bytea, 4326)) AS d
), candidates AS MATERIALIZED (
  SELECT places.place, places.geom, covered.fid FROM covered JOIN places USING (cx, cy)
)
SELECT c.place, t.id FROM candidates AS c JOIN {layer} AS t USING (fid)
WHERE ST_Intersects(t.geom, c.geom) ORDER BY c.place, t.fid
"""
    ).format(layer=sql.Identifier(layer))
