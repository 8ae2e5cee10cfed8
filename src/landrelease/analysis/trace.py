"""Which records make a figure, written compactly: runs of consecutive ids as ``HZ-000001..HZ-000040``."""

from __future__ import annotations

import re
from collections.abc import Iterable

_ID = re.compile(r"([A-Za-z]+-)(\d+)")


def compact_ids(ids: Iterable[str]) -> list[str]:
    """Sorted ids with consecutive runs (same prefix, numbers one apart) folded into ``first..last``."""
    numbered: list[tuple[str, int, int, str]] = []  # (prefix, number, width, id)
    other: list[str] = []
    for i in set(ids):
        head, dash, digits = i.rpartition("-")  # str methods: a regex per id costs seconds at national scale
        if dash and digits.isdigit() and digits.isascii() and head.isalpha():
            numbered.append((head + dash, int(digits), len(digits), i))
        else:
            other.append(i)
    numbered.sort()
    out: list[str] = []
    k = 0
    while k < len(numbered):
        j = k
        while (
            j + 1 < len(numbered)
            and numbered[j + 1][0] == numbered[k][0]
            and numbered[j + 1][2] == numbered[k][2]
            and numbered[j + 1][1] == numbered[j][1] + 1
        ):
            j += 1
        out.append(numbered[k][3] if j == k else f"{numbered[k][3]}..{numbered[j][3]}")
        k = j + 1
    return out + sorted(other)


def expand_ids(compact: Iterable[str]) -> list[str]:
    """The ids a compact list stands for (the inverse of ``compact_ids``)."""
    out: list[str] = []
    for item in compact:
        first, sep, last = item.partition("..")
        a, b = _ID.fullmatch(first), _ID.fullmatch(last) if sep else None
        if a and b:
            width = len(a[2])
            out.extend(f"{a[1]}{n:0{width}d}" for n in range(int(a[2]), int(b[2]) + 1))
        else:
            out.append(item)
    return out
