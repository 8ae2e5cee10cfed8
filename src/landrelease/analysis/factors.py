"""A column as codes into its distinct values, so a test or a key is worked out once per distinct value
(a few thousand dates, a few hundred admin areas) and applied to 300,000 records with numpy."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

V = TypeVar("V", bound=Hashable)
W = TypeVar("W", bound=Hashable)
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Factor(Generic[V]):
    codes: Ints  # per record, an index into ``levels``
    levels: list[V]  # distinct values, in order of first appearance

    def where(self, test: Callable[[V], bool]) -> Bools:
        """Per record, whether its value passes ``test`` (a fresh array: callers may change it)."""
        passed = np.array([bool(test(v)) for v in self.levels], dtype=bool)
        return passed[self.codes] if len(self.levels) else np.zeros(len(self.codes), dtype=bool)

    def map(self, key: Callable[[V], Hashable], keys: dict[Hashable, int]) -> Ints:
        """Per record, the code in ``keys`` (extended as new keys appear) of ``key(value)``."""
        mapped = np.array([keys.setdefault(key(v), len(keys)) for v in self.levels], dtype=np.int64)
        return mapped[self.codes] if len(self.levels) else np.zeros(0, dtype=np.int64)

    def count(self, value: V) -> int:
        try:
            return int(np.count_nonzero(self.codes == self.levels.index(value)))
        except ValueError:
            return 0

    def relabel(self, label: Callable[[V], W]) -> Factor[W]:
        """The factor of ``label(value)``: labels computed once per distinct value, equal labels merged."""
        index: dict[W, int] = {}
        mapped = np.array([index.setdefault(label(v), len(index)) for v in self.levels], dtype=np.int64)
        return Factor(mapped[self.codes] if len(self.levels) else self.codes, list(index))

    def values(self) -> list[V]:
        levels = self.levels
        return [levels[c] for c in self.codes.tolist()]


def factorise(values: Iterable[V]) -> Factor[V]:
    index: dict[V, int] = {}
    codes = [index.setdefault(v, len(index)) for v in values]
    return Factor(np.array(codes, dtype=np.int64), list(index))


def members(codes: Ints, mask: Bools, size: int) -> list[Ints]:
    """Per code (0..size-1), the positions holding it where ``mask`` is set, in ascending order."""
    positions = np.flatnonzero(mask)
    selected = codes[positions]
    order = np.argsort(selected, kind="stable")
    bounds = np.searchsorted(selected[order], np.arange(size + 1))
    grouped = positions[order]
    return [grouped[bounds[k] : bounds[k + 1]] for k in range(size)]


def distinct(values: Ints) -> Ints:
    """Sorted distinct values; the usual selection (ascending already) costs one pass."""
    if len(values) > 1 and not bool((values[1:] > values[:-1]).all()):
        values = np.sort(values)
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return values
