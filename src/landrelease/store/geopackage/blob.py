"""The GeoPackage geometry blob (GPKG 1.3, clause 2.1.3): a small header, then little-endian ISO WKB.

Header: ``b"GP"``, version 0, a flags byte, the int32 srs_id, then an optional envelope of doubles
(minx, maxx, miny, maxy[, z and/or m ranges]). Flags, from bit 0: byte order of the header (1 = little
endian), three bits of envelope kind (0 none, 1 xy, 2 xyz, 3 xym, 4 xyzm), the empty-geometry bit, the
extended-binary bit. We write little endian, an xy envelope, 2D WKB; we read any byte order and envelope
kind, because GDAL and other tools write into the same file (GDAL writes points without an envelope).

Also here: the ``ST_IsEmpty``/``ST_MinX``/... SQL functions the spec's R*Tree triggers call, registered
on our own connection so the triggers GDAL would run also work when we write.
"""

from __future__ import annotations

import math
import operator
import sqlite3
import struct
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

#: Envelope length in bytes by envelope kind (flag bits 1-3); kinds 5-7 are invalid.
_ENVELOPE_BYTES = (0, 32, 48, 48, 64)
_FLAG_LITTLE_ENDIAN = 0x01
_FLAG_ENVELOPE_XY = 0x02  # kind 1 shifted into bits 1-3
_FLAG_EMPTY = 0x10
_HEADER_XY = 8 + 32

#: Header length by flags byte (-1: invalid envelope kind), so stripping headers is one list lookup.
_HEADER_LENGTH: tuple[int, ...] = tuple(
    8 + _ENVELOPE_BYTES[kind] if (kind := (flags >> 1) & 0x07) < len(_ENVELOPE_BYTES) else -1 for flags in range(256)
)

#: The packed header we write, as a numpy record so a whole batch is encoded in one call.
_HEADER_DTYPE = np.dtype(
    [("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs_id", "<i4"), ("envelope", "<f8", (4,))]
)
assert _HEADER_DTYPE.itemsize == _HEADER_XY

Envelope = tuple[float, float, float, float]  # minx, maxx, miny, maxy (the header's order)


class BlobError(ValueError):
    """A value in a geometry column that is not a GeoPackage geometry blob."""


def encode_many(
    geometries: npt.NDArray[np.object_], srs_id: int = 4326
) -> tuple[list[bytes | None], npt.NDArray[np.float64]]:
    """Blobs for an array of 2D geometries (None and empty geometries give None), and their bounds.

    Bounds are shapely's (minx, miny, maxx, maxy) per row, NaN where there is no geometry; the caller
    uses them for the R*Tree and the layer extent without decoding anything again.
    """
    count = len(geometries)
    bounds = np.asarray(shapely.bounds(geometries), dtype=np.float64).reshape(count, 4)
    # Empty geometries have NaN bounds too: a row without a usable envelope is stored as NULL.
    present = np.logical_not(np.isnan(bounds).any(axis=1))
    wkbs = shapely.to_wkb(geometries, output_dimension=2, byte_order=1, flavor="iso")
    header = np.zeros(count, dtype=_HEADER_DTYPE)
    header["magic"] = b"GP"
    header["flags"] = _FLAG_LITTLE_ENDIAN | _FLAG_ENVELOPE_XY
    header["srs_id"] = srs_id
    header["envelope"] = bounds[:, [0, 2, 1, 3]]
    headers = header.view(f"V{_HEADER_XY}").tolist()  # one bytes object per row
    if present.all():
        blobs: list[bytes | None] = list(map(operator.add, headers, wkbs))
    else:
        blobs = [h + w if ok else None for h, w, ok in zip(headers, wkbs, present.tolist(), strict=True)]
    return blobs, bounds


def encode(geometry: BaseGeometry | None, srs_id: int = 4326) -> bytes | None:
    """The blob of one geometry (None for None or an empty geometry)."""
    return encode_many(np.array([geometry], dtype=object), srs_id)[0][0]


def decode_many(blobs: Sequence[bytes | None]) -> npt.NDArray[np.object_]:
    """Shapely geometries (None for NULL) from blobs, decoded in one vectorised call."""
    lengths = _HEADER_LENGTH
    try:
        wkbs = [None if blob is None else blob[lengths[blob[3]] :] for blob in blobs]
        result: npt.NDArray[np.object_] = shapely.from_wkb(wkbs)
    except (IndexError, TypeError, shapely.errors.GEOSException) as error:
        raise BlobError(f"a geometry value is not a GeoPackage geometry blob ({error})") from None
    return result


def decode(blob: bytes | None) -> BaseGeometry | None:
    """The shapely geometry of one blob (None for NULL)."""
    if blob is None:
        return None
    _check(blob)
    geometry: BaseGeometry = shapely.from_wkb(blob[_HEADER_LENGTH[blob[3]] :])
    return geometry


def _check(blob: object) -> bytes:
    if not isinstance(blob, bytes) or len(blob) < 8 or blob[:2] != b"GP" or _HEADER_LENGTH[blob[3]] < 0:
        raise BlobError("a geometry value is not a GeoPackage geometry blob")
    return blob


def envelope(blob: bytes | None) -> Envelope | None:
    """(minx, maxx, miny, maxy) of a blob, from its header when it has an envelope; None if empty."""
    if blob is None:
        return None
    flags = _check(blob)[3]
    if flags & _FLAG_EMPTY:
        return None
    if _HEADER_LENGTH[flags] > 8:
        order = "<" if flags & _FLAG_LITTLE_ENDIAN else ">"
        minx, maxx, miny, maxy = struct.unpack_from(order + "4d", blob, 8)
        return (minx, maxx, miny, maxy)
    # No envelope in the header (GDAL writes points so): read the geometry itself.
    minx, miny, maxx, maxy = shapely.bounds(shapely.from_wkb(blob[8:])).tolist()
    if math.isnan(minx):
        return None
    return (minx, maxx, miny, maxy)


# --- SQL functions for the gpkg_rtree_index triggers -----------------------------------------------------


def _sql_is_empty(blob: object) -> int | None:
    if not isinstance(blob, bytes):
        return None
    try:
        return 1 if envelope(blob) is None else 0
    except (BlobError, shapely.errors.GEOSException):
        return None


def _sql_envelope_part(index: int) -> Callable[[object], float | None]:
    def part(blob: object) -> float | None:
        if not isinstance(blob, bytes):
            return None
        try:
            box = envelope(blob)
        except (BlobError, shapely.errors.GEOSException):
            return None
        return None if box is None else box[index]

    return part


def register_sql_functions(conn: sqlite3.Connection) -> None:
    """Register ST_IsEmpty, ST_MinX, ST_MaxX, ST_MinY, ST_MaxY (used by the spec's R*Tree triggers)."""
    conn.create_function("ST_IsEmpty", 1, _sql_is_empty, deterministic=True)
    for index, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _sql_envelope_part(index), deterministic=True)
