"""JSON objects written a column at a time: a batch of 100,000 records costs a few list passes per field
instead of 100,000 ``json.dumps`` calls. The text is what ``json.dumps(..., ensure_ascii=False)`` writes
for the same values (keys in column order, values that are None left out)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from landrelease.domain.records import Scalar

_WRITERS: dict[type, Callable[[Any], str]] = {
    str: encode_basestring,
    bool: lambda v: "true" if v else "false",
    int: int.__repr__,
    float: float.__repr__,
}


def plain(columns: Mapping[str, Sequence[Scalar]]) -> bool:
    """Whether ``objects`` can write these columns: each holds one type of value (and None), floats finite."""
    for column in columns.values():
        kinds = set(map(type, column)) - {type(None)}
        if len(kinds) > 1 or not kinds <= _WRITERS.keys():
            return False
        if kinds == {float} and not all(math.isfinite(v) for v in column if v is not None):  # type: ignore[arg-type]
            return False
    return True


def objects(columns: Mapping[str, Sequence[Scalar]], count: int, *, item: str = ",", key: str = ":") -> list[str]:
    """The JSON object of each row of ``count`` rows given as columns (which must be ``plain``), with
    ``item`` between members and ``key`` after names (``json.dumps``'s ``separators``)."""
    parts: list[list[str]] = []
    gaps = False  # whether some row lacks a value somewhere (its empty fragment must not leave a separator)
    for name, column in columns.items():
        first = next((v for v in column if v is not None), None)
        if first is None:
            continue
        head, write = encode_basestring(name) + key, _WRITERS[type(first)]
        if None in column:
            gaps = True
            parts.append(["" if v is None else head + write(v) for v in column])
        else:
            parts.append([head + text for text in map(write, column)])
    if not parts:
        return ["{}"] * count
    if gaps:
        return ["{" + item.join(filter(None, row)) + "}" for row in zip(*parts, strict=True)]
    return ["{" + item.join(row) + "}" for row in zip(*parts, strict=True)]
