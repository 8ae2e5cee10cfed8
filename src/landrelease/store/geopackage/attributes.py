"""Attribute checks at the store boundary, for whole batches at once.

The rules are the domain's (``landrelease.domain.attributes.coerce_value``: types, normalisation,
choices), so a value an importer accepts is accepted here and vice versa. What this adds: a batch is
checked column by column with each distinct value coerced once (100,000 records cost a few list passes
per field instead of a million Python calls), and messages say which feature of the batch or which
record is at fault. Nothing here knows about SQLite: a PostGIS backend can use it as it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from landrelease import jsontext
from landrelease.domain.attributes import coerce_text_column, coerce_value
from landrelease.domain.records import NewFeatures, Scalar, columns_of
from landrelease.domain.schema import Field, Layer
from landrelease.errors import InvalidInput

#: Where a problem is: a feature of a batch (0-based position), a record id, or None for the layer.
Where = int | str | None


@dataclass(frozen=True)
class AttributeRules:
    """How one layer's attributes are checked; built once per layer (``rules_for``)."""

    layer: Layer
    #: Fields a user may write (not derived), in column order.
    names: tuple[str, ...]
    fields: Mapping[str, Field]
    derived: frozenset[str]
    required: tuple[str, ...]

    def _where(self, where: Where) -> str:
        if isinstance(where, int):
            return f"{self.layer.name} feature {where + 1}: "
        return f"{where or self.layer.name}: "

    def _unknown(self, name: str, where: Where) -> InvalidInput:
        return InvalidInput(f"{self._where(where)}no field called {name!r}; fields are: {', '.join(self.names)}")

    def _coerce(self, name: str, value: object, where: Where) -> Scalar:
        try:
            return coerce_value(self.fields[name], value)
        except InvalidInput as error:
            raise InvalidInput(f"{self._where(where)}{error.message}") from None

    def _missing(self, name: str, where: Where) -> InvalidInput:
        return InvalidInput(f"{self._where(where)}{name} is required")

    def check(self, attributes: Mapping[str, Scalar], where: Where = None) -> dict[str, Scalar]:
        """The given attributes, coerced; derived fields are dropped (the system computes them)."""
        result: dict[str, Scalar] = {}
        for name, value in attributes.items():
            if name not in self.fields:
                if name in self.derived:
                    continue
                raise self._unknown(name, where)
            result[name] = self._coerce(name, value, where)
        return result

    def complete(self, values: Mapping[str, Scalar], where: Where = None) -> dict[str, Scalar]:
        """Every writable field in column order (missing ones None), refusing a lacking required value."""
        for name in self.required:
            if values.get(name) is None:
                raise self._missing(name, where)
        return {name: values.get(name) for name in self.names}

    def check_many(self, records: Sequence[Mapping[str, Scalar]]) -> dict[str, list[Scalar]]:
        """Check a batch of records; return every writable field's column (derived fields dropped)."""
        return self.check_columns(columns_of(records), len(records))

    def check_columns(self, columns: Mapping[str, Sequence[Scalar]], count: int) -> dict[str, list[Scalar]]:
        """Check a batch given as columns of ``count`` values; return every writable field's column
        (derived fields dropped). Refuses unknown fields, bad values and missing required values, naming
        the first feature at fault."""
        for name in sorted(columns.keys() - self.fields.keys() - self.derived):
            raise self._unknown(name, next((i for i, v in enumerate(columns[name]) if v is not None), 0))
        checked: dict[str, list[Scalar]] = {}
        for name in self.names:
            given = columns.get(name)
            column: list[Scalar] = [None] * count if given is None else list(given)
            if column.count(None) != count:
                column = self._coerce_column(name, column)
            checked[name] = column
        for name in self.required:
            if None in checked[name]:
                raise self._missing(name, checked[name].index(None))
        return checked

    def check_batch(self, batch: NewFeatures) -> tuple[dict[str, list[Scalar]], list[str]]:
        """What a store writes for a batch of new features: every column holding a value (writable fields
        checked, then derived ones), columns nobody filled left out (they are NULL anyway, and binding is
        much of a bulk write's cost); and each feature's history document (the writable values only)."""
        count = len(batch)
        problem = batch.problem()
        if problem is not None:
            raise InvalidInput(f"{self.layer.name}: {problem}")
        columns = self.check_columns(batch.columns, count)
        filled = {name: column for name, column in columns.items() if column.count(None) != count}
        documents = jsontext.objects(filled, count)
        for name in sorted(batch.derived):
            # Derived values known at creation go into the row, not into the versioned attributes.
            values = list(batch.derived[name])
            if values.count(None) == count:
                self.check_derived(name, None, "feature 1")  # nothing to write, but the name must be right
            elif set(map(type, values)) == {float} and np.isfinite(np.asarray(values, dtype=np.float64)).all():
                self.check_derived(name, values[0], "feature 1")  # the ledger figures: finite floats, by the 100,000
                filled[name] = values
            else:
                filled[name] = [self.check_derived(name, v, f"feature {i + 1}") for i, v in enumerate(values)]
        return filled, documents

    def _coerce_column(self, name: str, column: list[Scalar]) -> list[Scalar]:
        bulk = coerce_text_column(self.fields[name], column)
        if bulk is not None:
            return bulk
        kinds = set(map(type, column))
        if any(kind.__hash__ is None for kind in kinds):  # a list or a dict somewhere: no shortcuts
            return [self._coerce(name, value, i) for i, value in enumerate(column)]
        # Each distinct value is coerced once. With mixed types the key includes the type: 1, 1.0 and True
        # are equal in Python but not the same input.
        keyed = len(kinds - {type(None)}) > 1
        distinct: set[object] = set(zip(map(type, column), column, strict=True)) if keyed else set(column)
        replace: dict[object, Scalar] = {}
        for key in distinct:
            value = key[1] if keyed else key  # type: ignore[index]
            if value is None:
                continue
            try:
                result = coerce_value(self.fields[name], value)
            except InvalidInput as error:
                bad = next(i for i, v in enumerate(column) if type(v) is type(value) and v == value)
                raise InvalidInput(f"{self._where(bad)}{error.message}") from None
            if type(result) is not type(value) or result != value:
                replace[key] = result
        if not replace:
            return column
        if keyed:
            return [replace.get((type(v), v), v) for v in column]
        return [replace.get(v, v) for v in column]

    def check_derived(self, name: str, value: Scalar, record_id: str) -> Scalar:
        """A value for a derived field (``set_derived``)."""
        if name not in self.derived:
            kind = "written with update, not a derived field" if name in self.fields else "not a field"
            listed = ", ".join(sorted(self.derived)) or "none"
            raise InvalidInput(f"{record_id}: {name!r} is {kind}; derived fields of {self.layer.name} are: {listed}")
        if type(value) is float and math.isfinite(value):
            return value  # the common case (ledger figures), hundreds of thousands at a time
        try:
            return coerce_value(self.layer.field(name), value)
        except InvalidInput as error:
            raise InvalidInput(f"{record_id}: {error.message}") from None


@cache
def rules_for(layer: Layer) -> AttributeRules:
    """The attribute rules of a layer, built once."""
    writable = [f for f in layer.fields if not f.derived]
    return AttributeRules(
        layer=layer,
        names=tuple(f.name for f in writable),
        fields={f.name: f for f in writable},
        derived=frozenset(f.name for f in layer.fields if f.derived),
        required=tuple(f.name for f in writable if f.required),
    )
