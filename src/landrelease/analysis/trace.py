"""Which records make a figure, written compactly: runs of consecutive ids as ``HZ-000001..HZ-000040``.

A national report lists some 400,000 ids across its groups, so a layer's ids are parsed and ordered once
(``IdList``) and each group's selection is folded into runs with numpy; ``compact_ids`` is the same fold
for any iterable of ids. Ids are ordered by number, not text, and numbers padded to six digits grow past
them (FD-999999, FD-1000000: one run ``FD-999998..FD-1000001``, which ``expand_ids`` gives back).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from landrelease.analysis.factors import distinct
from landrelease.domain.records import MAX_DIGITS, id_numbers

#: Longer digit runs do not fit an int64 (Python ints are used then).
_MAX_DIGITS = MAX_DIGITS

Ints = npt.NDArray[np.int64]


class IdList:
    """The ids of a layer, parsed and ordered once: ``compact(positions)`` gives what ``compact_ids`` gives
    for the ids at those positions, with no Python step per id.

    The order is ``compact_ids``': ids of the form ``PREFIX-digits`` by (prefix, number, width), then the
    others as text; each distinct id has a rank in it.
    """

    def __init__(self, ids: Sequence[str]) -> None:
        self._text: Sequence[str]
        fast = _uniform(ids)
        self._uniform = fast is not None
        if fast is not None:
            self._rank, self._at, self._number, self._head, self._pad = fast
            self._text = ids
            n = len(self._at)
            self._numbered = np.ones(n, dtype=bool)
            # One prefix, and each number is one id: runs need no width test.
            self._prefix = self._width = self._digits = np.zeros(n, dtype=np.int64)
        else:
            self._general(ids)

    def _general(self, ids: Sequence[str]) -> None:
        parsed: list[tuple[int, str, int, int, str]] = []  # (0 if numbered else 1, prefix, number, width, id)
        for i in ids:
            head, dash, digits = i.rpartition("-")  # str methods: a regex per id costs seconds at national scale
            if dash and digits.isdigit() and digits.isascii() and head.isalpha():
                parsed.append((0, head + dash, int(digits), len(digits), i))
            else:
                parsed.append((1, "", 0, 0, i))
        order = sorted(range(len(parsed)), key=parsed.__getitem__)
        rank = np.empty(len(parsed), dtype=np.int64)
        text: list[str] = []
        prefixes: dict[str, int] = {}
        prefix, number, width, digits_of, numbered = [], [], [], [], []
        for k in order:
            other, head, n, w, i = parsed[k]
            if text and text[-1] == i:  # the same id twice stands for one record
                rank[k] = len(text) - 1
                continue
            rank[k] = len(text)
            text.append(i)
            prefix.append(prefixes.setdefault(head, len(prefixes)))
            number.append(n)
            width.append(w)
            digits_of.append(len(str(n)))
            numbered.append(not other)
        self._text = text
        self._rank = rank
        self._at = np.arange(len(text), dtype=np.int64)
        self._prefix = np.array(prefix, dtype=np.int64)
        big = any(w > _MAX_DIGITS for w in width)
        self._number = np.array(number, dtype=object if big else np.int64)
        self._width = np.array(width, dtype=np.int64)
        self._digits = np.array(digits_of, dtype=np.int64)
        self._numbered = np.array(numbered, dtype=bool)

    def __len__(self) -> int:
        return len(self._rank)

    def positions_of(self, values: Sequence[object]) -> Ints | None:
        """Where each value is among the ids (-1 where it is none of them), when the ids and the values are
        all of the one ``PREFIX-digits`` form (None otherwise: ask a dict). Ids are unique in a layer."""
        if not self._uniform or not len(self._at) or not values:
            return None
        parsed = _uniform(values, head=self._head, pad=self._pad)  # type: ignore[arg-type]
        if parsed is None:
            return None
        rank, _, number, _, _ = parsed
        # Each distinct value's number among the ids' numbers (sorted), then back to the values.
        at = np.searchsorted(self._number, number)
        hit = at < len(self._number)
        hit[hit] = self._number[at[hit]] == number[hit]
        where = np.where(hit, self._at[np.minimum(at, len(self._at) - 1)], -1)
        return where[rank]

    def compact(self, positions: npt.ArrayLike | None = None) -> list[str]:
        """The compact list of the ids at ``positions`` (all ids when None)."""
        selected = self._rank if positions is None else self._rank[np.asarray(positions, dtype=np.int64)]
        ranks = distinct(selected)
        if not len(ranks):
            return []
        # A run goes on while the next id selected has the same prefix and width and the next number.
        a, b = ranks[:-1], ranks[1:]
        goes_on = np.zeros(len(ranks), dtype=bool)
        # The next id is the next number written as the run writes it: the same width, or grown past it
        # (HZ-999999 then HZ-1000000; not HZ-0999 then HZ-01000).
        width_a, width_b = self._width[a], self._width[b]
        grown = (width_b > width_a) & (self._digits[b] == width_b)
        goes_on[1:] = (
            self._numbered[b]
            & self._numbered[a]
            & (self._prefix[b] == self._prefix[a])
            & ((width_b == width_a) | grown)
            & (self._number[b] == self._number[a] + 1)
        )
        starts = np.flatnonzero(~goes_on)
        ends = np.append(starts[1:], len(ranks)) - 1
        text = self._text
        firsts, lasts = self._at[ranks[starts]].tolist(), self._at[ranks[ends]].tolist()
        return [text[s] if s == e else f"{text[s]}..{text[e]}" for s, e in zip(firsts, lasts, strict=True)]


def _uniform(
    ids: Sequence[str], head: str | None = None, pad: int | None = None
) -> tuple[Ints, Ints, Ints, str, int] | None:
    """The usual case, in numpy: a layer's ids, each number one id (``records.id_numbers``; with ``head``
    and ``pad``, that prefix and width). Returns (rank of each id, the position of each rank's id, each
    rank's number, the prefix, the width), else None."""
    parsed = id_numbers(ids, head, pad)
    if parsed is None:
        return None
    number, head, pad = parsed
    distinct, first_at, rank = np.unique(number, return_index=True, return_inverse=True)
    return rank.astype(np.int64), first_at.astype(np.int64), distinct.astype(np.int64), head, pad


def compact_ids(ids: Iterable[str]) -> list[str]:
    """Sorted ids with consecutive runs (same prefix, numbers one apart) folded into ``first..last``."""
    return IdList(list(ids)).compact()


def expand_ids(compact: Iterable[str]) -> list[str]:
    """The ids a compact list stands for (the inverse of ``compact_ids``)."""
    out: list[str] = []
    for item in compact:
        first, sep, last = item.partition("..")
        a, b = _numbered(first), _numbered(last) if sep else None
        if a and b and a[0] == b[0]:
            width, end = len(a[1]), int(b[1])
            if len(b[1]) == max(width, len(str(end))):  # the last id is the first's width grown
                out.extend(f"{a[0]}{n:0{width}d}" for n in range(int(a[1]), end + 1))
                continue
        out.append(item)
    return out


def _numbered(text: str) -> tuple[str, str] | None:
    """(prefix with its dash, digits) of an id ``compact_ids`` folds, else None."""
    head, dash, digits = text.rpartition("-")
    if dash and digits.isdigit() and digits.isascii() and head.isalpha():
        return head + dash, digits
    return None
