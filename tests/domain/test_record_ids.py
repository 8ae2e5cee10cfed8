"""Record ids past 999,999: the form never changes (``PREFIX-`` and the number zero-padded to six digits,
then growing), and everything that orders ids orders them by number, which is creation order."""

from __future__ import annotations

import random

import numpy as np

from landrelease.domain.records import creation_ranks, format_id, id_number, id_numbers, id_order, id_spans


def test_the_id_form_is_kept_and_grows_past_six_digits() -> None:
    assert [format_id("FD", n) for n in (1, 999_999, 1_000_000, 12_345_678)] == [
        "FD-000001",
        "FD-999999",
        "FD-1000000",
        "FD-12345678",
    ]
    assert [id_number(i) for i in ("FD-000042", "FD-1000000", "FD-", "FD-1x", "odd", "FD-٣", "-5")] == [
        42,
        1_000_000,
        None,
        None,
        None,
        None,
        None,
    ]


def test_ids_order_by_number_not_text() -> None:
    ids = ["FD-200000", "FD-1000000", "FD-000001", "FD-999999", "HZ-000002", "(none)", "FD-1000001"]
    assert sorted(ids) != sorted(ids, key=id_order)  # text puts FD-1000000 before FD-200000
    assert sorted(ids, key=id_order) == [
        "(none)",  # other text keeps its text order around the ids
        "FD-000001",
        "FD-200000",
        "FD-999999",
        "FD-1000000",
        "FD-1000001",
        "HZ-000002",
    ]


def test_creation_ranks_in_numpy_match_the_sort_key() -> None:
    rng = random.Random(3)
    layer = [format_id("OC", n) for n in rng.sample(range(1, 3_000_000), 5000)]
    assert id_numbers(layer) is not None  # the numpy path
    odd = [*layer[:50], "OC-5", "OC-0000007", "x", "HZ-000001"]
    assert id_numbers(odd) is None  # left to the sort key
    for ids in (layer, odd):
        ranks = creation_ranks(ids)
        expected = sorted(range(len(ids)), key=lambda k: id_order(ids[k]))
        assert ranks[expected].tolist() == list(range(len(ids)))
    assert creation_ranks([]).size == 0
    numbers = id_numbers(["FD-999999", "FD-1000000"])
    assert numbers is not None and numbers[0].tolist() == [999_999, 1_000_000] and numbers[1:] == ("FD-", 6)
    assert id_numbers(["FD-999999", "FD-0999999"]) is None  # the same number twice: not one id per number
    assert id_numbers([None, "FD-000001"]) is None and id_numbers([5]) is None
    assert np.array_equal(creation_ranks(["FD-1000000", "FD-200000"]), [1, 0])


def test_id_spans_split_where_the_width_grows() -> None:
    assert id_spans("FD", 999_998, 1_000_001) == [
        ("FD-999998", "FD-999999", 9),
        ("FD-1000000", "FD-1000001", 10),
    ]
    assert id_spans("HZ", 5, 7) == [("HZ-000005", "HZ-000007", 9)]
    assert id_spans("HZ", 8, 7) == []
