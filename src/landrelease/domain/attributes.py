"""Attribute values checked and normalised against the schema, one field at a time.

Importers call this per feature (a bad value rejects that feature with a reason); stores call it again at
their boundary so nothing unchecked is ever written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import cast

from landrelease.domain.records import Scalar
from landrelease.domain.schema import Field, FieldType, Layer
from landrelease.errors import InvalidInput

_TRUE = {"1", "true", "yes", "y", "t", "так", "да"}
_FALSE = {"0", "false", "no", "n", "f", "ні", "нет"}
_INT64_MAX = 2**63 - 1
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")


def coerce_value(f: Field, value: object) -> Scalar:
    """``value`` as the field's type, or ``InvalidInput`` naming the field and what was wrong."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        result = _coerce(f, value)
    except OverflowError:
        raise InvalidInput(f"{f.name}: {value!r} is too large") from None
    except (TypeError, ValueError):
        raise InvalidInput(f"{f.name}: {value!r} is not a valid {f.type.value.lower()}") from None
    if f.choices is not None and result is not None and result not in f.choices:
        raise InvalidInput(f"{f.name}: {value!r} is not one of {', '.join(f.choices)}")
    return result


def coerce_text_column(f: Field, values: Sequence[object]) -> list[Scalar] | None:
    """``coerce_value`` over a whole column of free text at once, or ``None`` when it needs the slow path.

    Names and references are unique per row in national files, so checking distinct values once saves
    nothing for them; this does the same checks (strip, blank is null, encodable as UTF-8) in bulk.
    """
    if f.type is not FieldType.TEXT or f.choices is not None:
        return None
    kinds = set(map(type, values))
    if not kinds <= {str, type(None)}:
        return None
    column = cast(Sequence[str | None], values)
    texts: list[str]
    stripped: list[Scalar]
    if type(None) in kinds:
        stripped = [None if v is None else (v.strip() or None) for v in column]
        texts = [v for v in stripped if type(v) is str]
    else:
        texts = list(map(str.strip, cast(Sequence[str], column)))
        stripped = [t or None for t in texts]
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        return None  # the slow path names the value at fault
    return stripped


def _coerce(f: Field, value: object) -> Scalar:
    match f.type:
        case FieldType.TEXT:
            text = str(value).strip()
            _encodable(text)
            if f.choices is not None:
                # Controlled vocabularies are stored as their codes; accept any case and spaces.
                for choice in f.choices:
                    if text.lower().replace(" ", "_") == choice.lower():
                        return choice
            return text
        case FieldType.INTEGER:
            if isinstance(value, bool):
                return int(value)
            number = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
            if abs(number) > _INT64_MAX:
                raise OverflowError(value)  # beyond what a database integer holds
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        case FieldType.REAL:
            if isinstance(value, str):
                value = value.strip().replace(",", ".")
            number = float(value)  # type: ignore[arg-type]
            if not math.isfinite(number):
                raise ValueError(value)
            return number
        case FieldType.BOOLEAN:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(value)
        case FieldType.DATE:
            return _date(value)
    raise ValueError(value)  # pragma: no cover - every FieldType is handled above


def _encodable(text: str) -> None:
    """Text that cannot be written as UTF-8 (unpaired surrogates, from broken JSON or URLs) is refused."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(text) from None


def _date(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if _DATE.match(text):
        return date.fromisoformat(text[:10]).isoformat()
    m = _DMY.match(text)  # 24.02.2022 or 24/02/2022: day first, as written in Ukraine and most of Europe
    if m:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
    raise ValueError(value)


def coerce_attributes(
    layer: Layer,
    attributes: Mapping[str, object],
    *,
    partial: bool = False,
    allow_derived: bool = False,
) -> dict[str, Scalar]:
    """Check every attribute against the layer's fields; ``partial`` skips the required-field check."""
    known = {f.name: f for f in layer.fields}
    out: dict[str, Scalar] = {}
    for name, value in attributes.items():
        f = known.get(name)
        if f is None:
            raise InvalidInput(f"{layer.name} has no field {name!r}; its fields are: {', '.join(known)}")
        if f.derived and not allow_derived:
            continue  # computed by the system, never taken from input
        out[name] = coerce_value(f, value)
    if not partial:
        missing = [f.name for f in layer.fields if f.required and out.get(f.name) is None]
        if missing:
            raise InvalidInput(f"missing required {'field' if len(missing) == 1 else 'fields'}: {', '.join(missing)}")
    return out
