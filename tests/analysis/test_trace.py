"""Folding record ids into runs: the numpy fold (``IdList``) against the rule written plainly, on ids of
the usual form, on ids past 999,999 (seven digits, next to six-digit ones) and on odd ones (other prefixes
and widths, duplicates, text that is no id)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from landrelease.analysis.factors import distinct, factorise, members
from landrelease.analysis.trace import IdList, compact_ids, expand_ids


def folded_plainly(ids: list[str]) -> list[str]:
    """The rule: ``PREFIX-digits`` ids sorted by (prefix, number, width), runs of the same prefix with numbers
    one apart, each written as the run's first width writes it (the same width, or grown past it without a
    leading zero: HZ-999999 then HZ-1000000), folded into ``first..last``; then any other text, sorted."""
    numbered, other = [], []
    for i in set(ids):
        head, dash, digits = i.rpartition("-")
        if dash and digits.isdigit() and digits.isascii() and head.isalpha():
            numbered.append((head, int(digits), len(digits), i))
        else:
            other.append(i)
    numbered.sort()
    out: list[str] = []
    for entry in numbered:
        last = out[-1].split("..")[-1] if out else None
        previous = next((n for n in numbered if n[3] == last), None)
        follows = previous is not None and (previous[0], previous[1] + 1) == (entry[0], entry[1])
        if previous is not None and follows and f"{entry[0]}-{entry[1]:0{previous[2]}d}" == entry[3]:
            out[-1] = f"{out[-1].split('..')[0]}..{entry[3]}"
        else:
            out.append(entry[3])
    return out + sorted(other)


UNIFORM = [f"HZ-{n:06d}" for n in range(1, 400)]
PAST_A_MILLION = [f"FD-{n:06d}" for n in (*range(1, 60), *range(999_900, 1_000_100), *range(1_999_990, 2_000_010))]
ODD = [
    *(f"HZ-{n:06d}" for n in range(1, 120)),
    *(f"OC-{n:06d}" for n in range(1, 40)),
    *(f"HZ-{n:03d}" for n in range(995, 1000)),
    *(f"HZ-{n:04d}" for n in range(995, 1005)),
    *(f"HZ-{n:03d}" for n in range(998, 1002)),
    *(f"HZ-{n:06d}" for n in range(999_997, 1_000_003)),
    "HZ-0001000000",
    "odd",
    "x-1",
    "Ж-5",
    "Ж-6",
    "a-b-3",
    "-4",
    "HZ-٣",
    "HZ-0000000000000000000001",
    "HZ-0000000000000000000002",
]


@pytest.mark.parametrize("pool", [UNIFORM, PAST_A_MILLION, ODD], ids=["uniform", "past-a-million", "odd"])
def test_the_numpy_fold_follows_the_rule(pool: list[str]) -> None:
    rng = random.Random(5)
    for _ in range(150):
        ids = rng.sample(pool, rng.randint(0, len(pool)))
        ids += ids[: rng.randint(0, len(ids) // 3)]  # the same id twice is one record
        assert compact_ids(ids) == folded_plainly(ids)
        listed = IdList(ids)
        positions = sorted(rng.sample(range(len(ids)), rng.randint(0, len(ids))))
        assert listed.compact(np.array(positions, dtype=np.int64)) == folded_plainly([ids[k] for k in positions])
        assert sorted(expand_ids(compact_ids(ids))) == sorted(set(ids))


def test_ids_past_999999_fold_and_order_by_number() -> None:
    ids = ["FD-1000001", "FD-200000", "FD-999999", "FD-1000000", "FD-999998", "FD-000007"]
    assert compact_ids(ids) == ["FD-000007", "FD-200000", "FD-999998..FD-1000001"]
    assert expand_ids(["FD-999998..FD-1000001"]) == ["FD-999998", "FD-999999", "FD-1000000", "FD-1000001"]
    listed = IdList(ids)
    assert listed._uniform  # the numpy path, not a Python step per id
    assert listed.compact([1, 3]) == ["FD-200000", "FD-1000000"]
    found = listed.positions_of(["FD-1000000", "FD-100000", "FD-999999", "FD-2000000"])
    assert found is not None and found.tolist() == [3, -1, 2, -1]
    assert listed.positions_of(["FD-0999999"]) is None  # not what FD-999999 grows into: a dict decides


def test_positions_of_ids_and_of_anything_else() -> None:
    ids = [f"HZ-{n:06d}" for n in (5, 3, 9, 4)]
    listed = IdList(ids)
    found = listed.positions_of(["HZ-000009", "HZ-000001", "HZ-000005", "HZ-000009"])
    assert found is not None and found.tolist() == [2, -1, 0, 2]
    # Anything not of the one form is left to a dict lookup (None).
    assert listed.positions_of(["HZ-000009", None]) is None
    assert listed.positions_of(["HZ-9"]) is None and listed.positions_of(["OC-000009"]) is None
    assert IdList(["odd", "HZ-000001"]).positions_of(["HZ-000001"]) is None


def test_factors_and_members() -> None:
    days = factorise(["2024-05-01", None, "2024-05-01", "2023-01-02"])
    assert days.levels == ["2024-05-01", None, "2023-01-02"] and days.codes.tolist() == [0, 1, 0, 2]
    assert days.where(lambda d: d is not None and d >= "2024").tolist() == [True, False, True, False]
    assert days.count(None) == 1 and days.count("1999-01-01") == 0
    months = days.relabel(lambda d: d[:7] if d else "none")
    assert months.values() == ["2024-05", "none", "2024-05", "2023-01"]
    keys: dict[object, int] = {"none": 0}
    codes = days.map(lambda d: d[:4] if d else "none", keys)
    assert codes.tolist() == [1, 0, 1, 2] and list(keys) == ["none", "2024", "2023"]
    mask = np.array([True, True, False, True])
    assert [m.tolist() for m in members(codes, mask, 3)] == [[1], [0], [3]]
    assert distinct(np.array([3, 1, 3, 2], dtype=np.int64)).tolist() == [1, 2, 3]
