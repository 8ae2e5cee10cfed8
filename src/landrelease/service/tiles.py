"""Mapbox vector tiles of the national layers: ``/tiles/{layer}/{z}/{x}/{y}.mvt`` (Web Mercator XYZ).

A tile is cut from the layer's cached index (``ogc_index.LayerCache``: geometries projected to Web Mercator
once, an STRtree, the few attributes a map styles by), so a request reads two counters from the store, not
100,000 polygons. Geometries are clipped to the tile plus a buffer, moved to tile units, simplified by one
unit (so by zoom: a unit is a 16th of a screen pixel at any zoom) and snapped to the integer grid
(collapsed slivers disappear, the result stays valid), then encoded with mapbox-vector-tile.

A store that cuts tiles itself (``store.protocol.TileSource``: PostGIS with ``ST_AsMVT``, see
``store.postgis.tiles``) is asked first; its tiles carry the same layer name, ids and properties, read
straight from the database (never stale), and the index is not built at all.

Cut tiles are kept in a bounded in-process cache (``TileCache``, least recently used out first, 64 MB of
tile bytes) so a view that comes back (the same area panned back to, another user on the same district) is
not cut again: zoom 8 tiles (~1,100 polygons) take 30-150 ms to cut. A cached tile is tied to the exact
state of the index it was cut from (the index object, its counters and when its attributes were read), so
it is never older than the index itself: any write that refreshes the index drops the tile. Tiles cut by the
store (PostGIS) are not cached: the ``Store`` protocol offers no marker that changes on every write (a status
change moves neither ``count`` nor the ledger counter), and those tiles promise never to be stale.

An empty tile is a ``204 No Content`` (maplibre draws nothing for it).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Annotated

import numpy as np
import numpy.typing as npt
import shapely
from fastapi import APIRouter, Depends, Request
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse, Response
from mapbox_vector_tile.Mapbox import vector_tile_pb2  # type: ignore[import-untyped]

from landrelease.domain.records import Scalar
from landrelease.domain.schema import LAYERS, GeometryKind, Layer
from landrelease.errors import InvalidInput, LandreleaseError, NotFound
from landrelease.service.context import Principal
from landrelease.service.models import ErrorOut
from landrelease.service.ogc_index import LAYER_CACHE, MERCATOR_HALF, LayerCache, LayerIndex
from landrelease.store.protocol import Geometries, Store, TileSource

EXTENT = 4096
#: Geometry kept outside the tile edge, in tile units (so strokes and fills join across tiles).
BUFFER = 64
MAX_ZOOM = 24
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
#: Tiles may be a few seconds behind an edit (see ``ogc_index``); browsers keep them this long.
CACHE_CONTROL = "private, max-age=30"

#: The attributes each layer's features carry, beside ``id`` (what the web map styles and filters by).
TILE_PROPERTIES: dict[str, tuple[str, ...]] = {
    "hazards": ("hazard_class", "status"),
    "outcomes": ("kind", "hazard_id"),
    "activities": ("activity_type", "status"),
    "finds": ("ordnance_category", "hazard_id"),
    "accidents": ("accident_class",),
    "eore": ("method",),
    "admin_areas": ("name", "level"),
    "risk_cells": ("risk", "cell_size_m"),
}
#: The layers served as tiles, by their URL name.
TILE_LAYERS: dict[str, Layer] = {
    name.replace("_", "-"): LAYERS[name]
    for name in TILE_PROPERTIES
    if LAYERS[name].geometry is not GeometryKind.NONE and not LAYERS[name].personal
}


def tile_layer(name: str) -> Layer:
    layer = TILE_LAYERS.get(name.replace("_", "-").lower())
    if layer is None:
        raise NotFound(f"no tile layer {name!r}; layers are: {', '.join(TILE_LAYERS)}")
    return layer


def parse_tile(z: str, x: str, y: str) -> tuple[int, int, int]:
    """Validate XYZ tile coordinates given as text: 0 <= z <= 24 and 0 <= x, y < 2**z."""
    try:
        zoom, column, row = int(z), int(x), int(y)
    except ValueError:
        raise InvalidInput(f"tile coordinates must be whole numbers, got {z}/{x}/{y}") from None
    if not 0 <= zoom <= MAX_ZOOM:
        raise InvalidInput(f"zoom must be 0..{MAX_ZOOM}, got {zoom}")
    side = 1 << zoom
    if not (0 <= column < side and 0 <= row < side):
        raise InvalidInput(f"at zoom {zoom}, x and y must be 0..{side - 1}, got {column}/{row}")
    return zoom, column, row


def mercator_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A tile's bounds in Web Mercator metres (minx, miny, maxx, maxy)."""
    size = 2 * MERCATOR_HALF / (1 << z)
    minx = -MERCATOR_HALF + x * size
    maxy = MERCATOR_HALF - y * size
    return minx, maxy - size, minx + size, maxy


def lonlat_bounds(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Web Mercator bounds as longitude/latitude bounds (exact: the projection is separable by axis)."""

    def lat(y: float) -> float:
        return math.degrees(2 * math.atan(math.exp(y / MERCATOR_HALF * math.pi)) - math.pi / 2)

    minx, miny, maxx, maxy = bounds
    return minx / MERCATOR_HALF * 180, lat(miny), maxx / MERCATOR_HALF * 180, lat(maxy)


def _feature_number(record_id: str) -> int | None:
    number = record_id.rpartition("-")[2]
    return int(number) if number.isdigit() else None


def _zigzag(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return (values << 1) ^ (values >> 63)


def _polygon_commands(shapes: Geometries) -> list[list[int]]:
    """MVT geometry commands of (multi)polygons already in integer tile units, one list per shape.

    Vectorised over every vertex of the tile: each ring is MoveTo(1) x y, LineTo(m-1) dx dy..., ClosePath,
    with deltas running on across rings and parts of a feature, and repeated vertices dropped.
    """
    _, coords, offsets = shapely.to_ragged_array(shapes)
    if len(offsets) == 2:  # only single polygons: each is its own feature
        ring_offsets, polygon_offsets = offsets
        part_offsets = np.arange(len(shapes) + 1)
    else:
        ring_offsets, polygon_offsets, part_offsets = offsets
    points = coords.astype(np.int64)
    ring_of_point = np.repeat(np.arange(len(ring_offsets) - 1), np.diff(ring_offsets))
    polygon_of_ring = np.repeat(np.arange(len(polygon_offsets) - 1), np.diff(polygon_offsets))
    feature_of_polygon = np.repeat(np.arange(len(part_offsets) - 1), np.diff(part_offsets))
    feature_of_ring = feature_of_polygon[polygon_of_ring]
    # Drop each ring's closing vertex and any vertex equal to the one before it in its ring.
    keep = np.ones(len(points), dtype=bool)
    keep[ring_offsets[1:] - 1] = False
    same = np.zeros(len(points), dtype=bool)
    same[1:] = (points[1:] == points[:-1]).all(axis=1) & (ring_of_point[1:] == ring_of_point[:-1])
    keep &= ~same
    points, ring_of_point = points[keep], ring_of_point[keep]
    per_ring = np.bincount(ring_of_point, minlength=len(ring_offsets) - 1)
    feature_of_point = feature_of_ring[ring_of_point]
    deltas = np.empty_like(points)
    deltas[0] = points[0]
    deltas[1:] = points[1:] - points[:-1]
    first_of_feature = np.ones(len(points), dtype=bool)
    first_of_feature[1:] = feature_of_point[1:] != feature_of_point[:-1]
    deltas[first_of_feature] = points[first_of_feature]
    encoded = _zigzag(deltas)
    # Lay out: ring r starts at start[r]; its i-th vertex goes at start + 1 + 2i (+1 after the LineTo).
    lengths = 2 * per_ring + 3
    start = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    out = np.empty(int(lengths.sum()), dtype=np.int64)
    out[start] = 9  # MoveTo, count 1
    out[start + 3] = ((per_ring - 1) << 3) | 2  # LineTo, count m-1
    out[start + lengths - 1] = 15  # ClosePath
    ring_start = np.concatenate(([0], np.cumsum(per_ring)[:-1]))
    i = np.arange(len(points)) - ring_start[ring_of_point]
    position = start[ring_of_point] + 1 + 2 * i + (i >= 1)
    out[position] = encoded[:, 0]
    out[position + 1] = encoded[:, 1]
    feature_end = np.searchsorted(feature_of_ring, np.arange(len(part_offsets) - 1), side="right")
    bounds = np.concatenate(([0], np.cumsum(lengths)))[np.concatenate(([0], feature_end))]
    flat = out.tolist()
    return [flat[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]


def _point_commands(shapes: Geometries) -> list[list[int]]:
    encoded = _zigzag(shapely.get_coordinates(shapes).astype(np.int64)).tolist()
    return [[9, x, y] for x, y in encoded]


def _tile_geometries(index: LayerIndex, z: int, x: int, y: int) -> tuple[npt.NDArray[np.intp], Geometries]:
    """Positions in the index of the features of a tile, and their geometries in integer tile units."""
    bounds = mercator_bounds(z, x, y)
    size = bounds[2] - bounds[0]
    pad = size * BUFFER / EXTENT
    padded = (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    positions = index.query(lonlat_bounds(padded), exact=False)
    if not len(positions):
        return positions, np.empty(0, dtype=object)
    shapes = shapely.clip_by_rect(index.mercator()[positions], *padded)
    scale = EXTENT / size
    minx, maxy = bounds[0], bounds[3]

    def to_tile(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.column_stack(((coords[:, 0] - minx) * scale, (maxy - coords[:, 1]) * scale))

    shapes = shapely.transform(shapes, to_tile)
    if index.layer.geometry is GeometryKind.POLYGON:
        # Simplify by one unit; a polygon that would vanish keeps its shape (it still shows as a dot).
        simple = shapely.simplify(shapes, 1.0, preserve_topology=False)
        shapes = np.where(shapely.area(simple) > 0, simple, shapes)
        snapped = shapely.transform(shapes, np.rint)
        # Snapping can fold a small polygon onto itself: only those go through GEOS's precision model.
        bad = ~shapely.is_valid(snapped) | (shapely.area(snapped) <= 0)
        if bad.any():
            snapped[bad] = shapely.set_precision(shapes[bad], 1.0)
        shapes = snapped
        types = shapely.get_type_id(shapes)
        keep = ((types == 3) | (types == 6)) & (shapely.area(shapes) > 0)
        # MVT exterior rings have a positive area in tile coordinates (y down): counter-clockwise to GEOS.
        shapes = shapely.orient_polygons(shapes[keep], exterior_cw=False)
    else:
        shapes = shapely.transform(shapes, np.rint)
        keep = shapely.get_type_id(shapes) == 0  # points: clipping leaves the others empty
        shapes = shapes[keep]
    return positions[keep], shapes


def render(index: LayerIndex, z: int, x: int, y: int, properties: tuple[str, ...] = ()) -> bytes | None:
    """The tile as MVT bytes (one layer named after the store layer), or None when no feature touches it."""
    positions, shapes = _tile_geometries(index, z, x, y)
    if not len(positions):
        return None
    polygons = index.layer.geometry is GeometryKind.POLYGON
    commands = _polygon_commands(shapes) if polygons else _point_commands(shapes)
    tile = vector_tile_pb2.tile()
    layer = tile.layers.add()
    layer.name, layer.version, layer.extent = index.layer.name, 2, EXTENT
    keys = ["id", *properties]
    layer.keys.extend(keys)
    values: dict[tuple[type, Scalar], int] = {}

    def value_index(value: Scalar) -> int:
        key = (type(value), value)
        found = values.get(key)
        if found is None:
            found = values[key] = len(values)
            message = layer.values.add()
            if isinstance(value, bool):
                message.bool_value = value
            elif isinstance(value, int):
                message.sint_value = value
            elif isinstance(value, float):
                message.double_value = value
            else:
                message.string_value = str(value)
        return found

    kind = vector_tile_pb2.tile.Polygon if polygons else vector_tile_pb2.tile.Point
    columns: Mapping[str, list[Scalar]] = index.attributes
    for position, geometry in zip(positions.tolist(), commands, strict=True):
        record_id = index.ids[position]
        feature = layer.features.add()
        number = _feature_number(record_id)
        if number is not None:
            feature.id = number
        feature.type = kind
        tags = [0, value_index(record_id)]
        for k, name in enumerate(properties, start=1):
            value = columns[name][position]
            if value is not None:
                tags += (k, value_index(value))
        feature.tags.extend(tags)
        feature.geometry.extend(geometry)
    content: bytes = tile.SerializeToString()
    return content


#: What a cached tile costs beside its bytes (key, entry and dictionary slot), so empty tiles count too.
ENTRY_OVERHEAD = 256
TileKey = tuple[int, str, int, int, int]


class TileCache:
    """Cut tiles by (store, layer, z, x, y), each with the state of the data it was cut from (``state``); at
    most ``max_bytes`` of tiles, the least recently used dropped first. Thread-safe (routes run in a pool)."""

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[TileKey, tuple[Hashable, bytes | None]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _cost(content: bytes | None) -> int:
        return ENTRY_OVERHEAD + len(content or b"")

    def get(self, key: TileKey, state: Hashable) -> tuple[bool, bytes | None]:
        """(found, tile): found only if cached for this very ``state`` (an older one is dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == state:
                self._entries.move_to_end(key)
                self.hits += 1
                return True, entry[1]
            if entry is not None:
                del self._entries[key]
                self.size -= self._cost(entry[1])
            self.misses += 1
            return False, None

    def put(self, key: TileKey, state: Hashable, content: bytes | None) -> None:
        cost = self._cost(content)
        if cost > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= self._cost(old[1])
            self._entries[key] = (state, content)
            self.size += cost
            while self.size > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.size -= self._cost(dropped)


#: The process-wide tile cache the route uses.
TILE_CACHE = TileCache()


def _index_state(index: LayerIndex) -> Hashable:
    # The index object itself changes on every rebuild; its attribute time on every attribute re-read.
    return id(index), index.built, index.attributes_read, index.signature


def tile_bytes(
    store: Store,
    layer: Layer,
    z: int,
    x: int,
    y: int,
    cache: LayerCache = LAYER_CACHE,
    tiles: TileCache | None = TILE_CACHE,
) -> bytes | None:
    """A tile of ``layer`` from ``store``: cut by the store itself if it can (PostGIS), else through the shared
    index cache, kept in ``tiles`` (None: cut every time) as long as that index is current."""
    properties = TILE_PROPERTIES.get(layer.name, ())
    if isinstance(store, TileSource):
        cut = store.tile(layer.name, z, x, y, properties)
        if cut is not None:
            return cut or None
    index = cache.get(store, layer, properties)
    if tiles is None:
        return render(index, z, x, y, properties)
    key, state = (id(store), layer.name, z, x, y), _index_state(index)
    found, content = tiles.get(key, state)
    if not found:
        content = render(index, z, x, y, properties)
        tiles.put(key, state, content)
    return content


def tiles_router(auth: Callable[..., Principal]) -> APIRouter:
    """The vector tile route; it needs ``auth`` (the app passes ``require(Role.VIEWER)``)."""
    router = APIRouter(dependencies=[Depends(auth)], tags=["Vector tiles"])

    @router.get(
        "/{layer}/{z}/{x}/{y}.mvt",
        name="tile",
        operation_id="tile",
        summary="A Mapbox vector tile (Web Mercator XYZ)",
        responses={
            200: {"content": {MEDIA_TYPE: {}}, "description": "The tile"},
            204: {"description": "No feature in this tile"},
            400: {"model": ErrorOut, "description": "Tile coordinates out of range or not whole numbers"},
            401: {"model": ErrorOut, "description": "Not signed in"},
            403: {"model": ErrorOut, "description": "The role does not allow this"},
            404: {"model": ErrorOut, "description": "No such tile layer"},
        },
        response_class=Response,
    )
    def tile(
        request: Request,
        layer: Annotated[str, FastPath(json_schema_extra={"enum": list(TILE_LAYERS)})],
        z: Annotated[str, FastPath(json_schema_extra={"type": "integer", "minimum": 0, "maximum": MAX_ZOOM})],
        x: Annotated[str, FastPath(json_schema_extra={"type": "integer", "minimum": 0}, description="0..2^z-1")],
        y: Annotated[str, FastPath(json_schema_extra={"type": "integer", "minimum": 0}, description="0..2^z-1")],
    ) -> Response:
        try:
            spec = tile_layer(layer)
            zoom, column, row = parse_tile(z, x, y)
            content = tile_bytes(request.app.state.store, spec, zoom, column, row)
        except LandreleaseError as error:
            return JSONResponse({"error": error.message}, status_code=error.http_status)
        headers = {"Cache-Control": CACHE_CONTROL}
        if content is None:
            return Response(status_code=204, headers=headers)
        return Response(content, media_type=MEDIA_TYPE, headers=headers)

    return router
