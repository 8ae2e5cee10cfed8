"""Attribute values between pyogrio's numpy columns and plain Python scalars.

pyogrio returns an integer or boolean column that has nulls as float64 with NaN, dates as
numpy datetimes (read here as ISO strings), JSON and list fields as strings and arrays. The rest of
landrelease wants ``str | int | float | bool | None`` and ISO dates, so each column is converted
once, vectorised, using the OGR type GDAL reported.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from landrelease.domain.records import Scalar

_INTEGER_TYPES = {"OFTInteger", "OFTInteger64"}
_TEXT_TYPES = {str, type(None)}


def _plain(value: Any) -> Scalar:
    """One value of an object column as a scalar (lists and binary become text)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, np.ndarray):
        return json.dumps(value.tolist(), ensure_ascii=False)
    if isinstance(value, np.generic):
        return _plain(value.item())
    return str(value)


def column_values(
    values: npt.NDArray[Any], ogr_type: str, ogr_subtype: str, *, empty_is_null: bool = False
) -> list[Scalar]:
    """A pyogrio column as a list of Python scalars; NaN and NaT become ``None``."""
    boolean = ogr_subtype == "OFSTBoolean"
    kind = values.dtype.kind
    out: list[Scalar]
    if kind == "f":
        nulls = np.isnan(values)
        if ogr_type in _INTEGER_TYPES:
            # an integer column with nulls arrives as float64
            filled = np.where(nulls, 0, values)
            as_int = filled.astype(bool) if boolean else filled.astype(np.int64)
            out = as_int.tolist()
        else:
            out = values.tolist()
        for i in np.flatnonzero(nulls):
            out[i] = None
        return out
    if kind in "iu":
        return values.astype(bool).tolist() if boolean else values.tolist()  # type: ignore[no-any-return]
    if kind == "b":
        return values.tolist()  # type: ignore[no-any-return]
    if kind == "M":
        return [None if np.isnat(v) else str(v) for v in values]
    out = values.tolist()
    if not {type(v) for v in out} <= _TEXT_TYPES:  # lists, bytes: rare, so checked once per column
        out = [v if isinstance(v, str) else _plain(v) for v in out]
    if empty_is_null:
        out = [None if v == "" else v for v in out]
    return out
