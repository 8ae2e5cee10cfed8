"""GDAL's own editing calls, as QGIS makes them through its OGR provider (SetFeature, DeleteFeature), made
through the libgdal that pyogrio bundles (pyogrio itself only appends). GDAL then runs the GeoPackage's
triggers in its own SQLite, which knows none of landrelease's functions."""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path
from types import TracebackType

import pyogrio
import pytest
from shapely.geometry.base import BaseGeometry

_UPDATE_VECTOR = 0x01 | 0x04  # GDAL_OF_UPDATE | GDAL_OF_VECTOR
_P = ctypes.c_void_p


def _library() -> ctypes.CDLL:
    bundled = sorted((Path(pyogrio.__file__).parent.parent / "pyogrio.libs").glob("libgdal*"))
    found = str(bundled[0]) if bundled else ctypes.util.find_library("gdal")
    if found is None:
        pytest.skip("no libgdal to call: neither bundled with pyogrio nor installed")
    gdal = ctypes.CDLL(found)
    signatures: dict[str, tuple[object, list[object]]] = {
        "GDALOpenEx": (_P, [ctypes.c_char_p, ctypes.c_uint, _P, _P, _P]),
        "GDALClose": (None, [_P]),
        "GDALDatasetGetLayerByName": (_P, [_P, ctypes.c_char_p]),
        "OGR_L_GetFeature": (_P, [_P, ctypes.c_longlong]),
        "OGR_L_SetFeature": (ctypes.c_int, [_P, _P]),
        "OGR_L_DeleteFeature": (ctypes.c_int, [_P, ctypes.c_longlong]),
        "OGR_F_GetFieldIndex": (ctypes.c_int, [_P, ctypes.c_char_p]),
        "OGR_F_SetFieldString": (None, [_P, ctypes.c_int, ctypes.c_char_p]),
        "OGR_F_SetGeometryDirectly": (ctypes.c_int, [_P, _P]),
        "OGR_F_Destroy": (None, [_P]),
        "OGR_G_CreateFromWkb": (ctypes.c_int, [ctypes.c_char_p, _P, ctypes.POINTER(_P), ctypes.c_int]),
        "CPLGetLastErrorMsg": (ctypes.c_char_p, []),
    }
    for name, (result, arguments) in signatures.items():
        function = getattr(gdal, name)
        function.restype, function.argtypes = result, arguments
    gdal.GDALAllRegister()
    return gdal


class OGREdit:
    """A GeoPackage opened for update by GDAL: ``with OGREdit(path) as ogr: ogr.set(...)``."""

    def __init__(self, path: Path) -> None:
        self._gdal = _library()
        self._dataset = self._gdal.GDALOpenEx(str(path).encode(), _UPDATE_VECTOR, None, None, None)
        if not self._dataset:
            raise AssertionError(f"GDAL cannot open {path} for update: {self._error()}")

    def _error(self) -> str:
        message: bytes = self._gdal.CPLGetLastErrorMsg()
        return message.decode()

    def _layer(self, name: str) -> int:
        layer: int | None = self._gdal.GDALDatasetGetLayerByName(self._dataset, name.encode())
        assert layer, f"GDAL finds no layer {name}"
        return layer

    def set(self, layer: str, fid: int, values: dict[str, str], geometry: BaseGeometry | None = None) -> None:
        """Change text fields (and the geometry) of feature ``fid`` and write it back (OGR_L_SetFeature)."""
        handle = self._layer(layer)
        feature = self._gdal.OGR_L_GetFeature(handle, fid)
        assert feature, f"GDAL finds no feature {fid} in {layer}"
        try:
            for name, value in values.items():
                self._gdal.OGR_F_SetFieldString(
                    feature, self._gdal.OGR_F_GetFieldIndex(feature, name.encode()), value.encode()
                )
            if geometry is not None:
                wkb = geometry.wkb
                made = _P()
                assert self._gdal.OGR_G_CreateFromWkb(wkb, None, ctypes.byref(made), len(wkb)) == 0
                self._gdal.OGR_F_SetGeometryDirectly(feature, made)
            if self._gdal.OGR_L_SetFeature(handle, feature) != 0:
                raise AssertionError(f"GDAL could not write the feature: {self._error()}")
        finally:
            self._gdal.OGR_F_Destroy(feature)

    def delete(self, layer: str, fid: int) -> None:
        if self._gdal.OGR_L_DeleteFeature(self._layer(layer), fid) != 0:
            raise AssertionError(f"GDAL could not delete the feature: {self._error()}")

    def close(self) -> None:
        if self._dataset:
            self._gdal.GDALClose(self._dataset)
            self._dataset = None

    def __enter__(self) -> OGREdit:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
