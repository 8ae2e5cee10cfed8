"""Mapbox vector tiles cut by PostGIS: ``ST_AsMVTGeom`` + ``ST_AsMVT`` over the rows the layer's GiST index
finds in the tile's envelope (``ST_TileEnvelope``, plus the buffer), so a tile reads only its own features and
is never stale.

The tile matches the one the service cuts from its in-process index (``service.tiles``): one layer named
after the store layer, extent 4096, a 64-unit buffer, features in creation order, the numeric part of the
record id as the feature id, and the properties ``id`` (the record id) plus the ones asked for; a null
property is left out of its feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from psycopg import sql

from landrelease.domain.schema import GeometryKind, Layer
from landrelease.errors import InvalidInput

EXTENT = 4096
BUFFER = 64
#: Web Mercator stops short of the poles; geometries beyond are clipped to it before projecting.
MERCATOR_MAX_LAT = 85.05112877980659


@cache
def tile_query(layer: Layer, properties: tuple[str, ...]) -> sql.Composed:
    """The tile query of ``layer`` carrying ``properties`` (field names, without ``id``); parameters: z, x, y."""
    if layer.geometry is GeometryKind.NONE:
        raise InvalidInput(f"{layer.name} has no geometry, so it has no tiles")
    for name in properties:
        if name not in layer.field_names:
            raise InvalidInput(f"{layer.name} has no field called {name!r}; fields are: {', '.join(layer.field_names)}")
    columns = sql.SQL(", ").join(sql.Identifier(n) for n in ("id", *properties))
    # Polar geometries are clipped first: projecting a pole to Web Mercator fails.
    clamped = sql.SQL(
        "CASE WHEN geom @ ST_MakeEnvelope(-180, -{lat}, 180, {lat}, 4326) THEN geom "
        "ELSE ST_ClipByBox2D(geom, ST_MakeEnvelope(-180, -{lat}, 180, {lat}, 4326)) END"
    ).format(lat=sql.Literal(MERCATOR_MAX_LAT))
    # The feature id is the number after the id's last "-" (string functions: a regular expression costs
    # ~10 us a row). The rows are projected in ONE ST_Transform of their collection, not one per row: PostGIS
    # 3.3 with PROJ 9 spends ~0.15 ms a call, most of a 1,000-feature tile. ST_Dump splits the collection
    # again (a multipolygon into its parts, path {row, part}) and the parts are gathered back by row; the
    # transform works vertex by vertex, so the result is exactly that of ST_Transform row by row.
    parts = "CASE WHEN count(*) = 1 THEN (array_agg(geom))[1] ELSE ST_Collect(geom) END AS geom"
    return sql.SQL(
        "WITH envelope AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS box, "
        "ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {margin}), 4326) AS search), "
        "found AS (SELECT {columns}, "
        "CASE WHEN length(split_part(id, '-', -1)) BETWEEN 1 AND 18 "
        "AND translate(split_part(id, '-', -1), '0123456789', '') = '' "
        "THEN split_part(id, '-', -1)::bigint END AS lr_fid, "
        "{clamped} AS geom, row_number() OVER (ORDER BY fid) AS lr_n "
        "FROM {table}, envelope WHERE geom && envelope.search), "
        "dumped AS (SELECT (ST_Dump(ST_Transform(ST_Collect(geom ORDER BY lr_n), 3857))).* FROM found), "
        "shapes AS (SELECT path[1] AS lr_n, {parts} FROM dumped GROUP BY path[1]) "
        "SELECT ST_AsMVT(tile, {name}, {extent}, 'lr_geom', 'lr_fid') FROM ("
        "SELECT {columns}, lr_fid, ST_AsMVTGeom(shapes.geom, envelope.box, {extent}, {buffer}, true) AS lr_geom "
        "FROM found JOIN shapes USING (lr_n), envelope ORDER BY lr_n"
        ") AS tile WHERE lr_geom IS NOT NULL"
    ).format(
        margin=sql.Literal(BUFFER / EXTENT),
        name=sql.Literal(layer.name),
        extent=sql.Literal(EXTENT),
        buffer=sql.Literal(BUFFER),
        columns=columns,
        clamped=clamped,
        parts=sql.SQL(parts),
        table=sql.Identifier(layer.name),
    )


def tile_parameters(z: int, x: int, y: int) -> dict[str, int]:
    """The query's parameters, after checking the tile exists (0 <= x, y < 2**z)."""
    side = 1 << z if 0 <= z <= 30 else 0
    if not (0 <= x < side and 0 <= y < side):
        raise InvalidInput(f"no tile {z}/{x}/{y}: at zoom z, x and y run 0..2^z-1")
    return {"z": z, "x": x, "y": y}


def property_names(properties: Sequence[str]) -> tuple[str, ...]:
    """The properties beside ``id`` (always there), each once, in the order given."""
    return tuple(dict.fromkeys(p for p in properties if p != "id"))
