"""Evidence-weighted SHA/CHA classification: scores by hand, spatial evidence, the weights file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from landrelease.analysis.classification import (
    classify,
    declared_evidence,
    load_classification,
    suggest,
)
from landrelease.domain.records import Change, NewFeature
from landrelease.errors import InvalidInput, UnreadableFile
from landrelease.store import Store

WHO = Change("im.officer", "test")


def test_scores_and_classes_by_hand() -> None:
    config = load_classification()
    # Two witness reports and military records: 3 + 3 + 4 = 10, but all indirect: still SHA.
    s = suggest("HZ-1", "SHA", {"witness_report": 2, "military_records": 1}, config, [])
    assert s.score == 10.0 and s.suggested == "SHA" and not s.disagrees
    assert s.components == {"witness_report": 6.0, "military_records": 4.0}
    # One landmine found in it: direct, 10: CHA, and the recorded SHA disagrees.
    s = suggest("HZ-2", "SHA", {"mine_find_in": 1}, config, [])
    assert (s.score, s.suggested, s.disagrees, s.direct) == (10.0, "CHA", True, True)
    # Counts are capped at max_count (3): 7 mine finds score 30.
    assert suggest("HZ-3", "CHA", {"mine_find_in": 7}, config, []).components == {"mine_find_in": 30.0}
    # One UXO item (6) is not enough; with a witness report (3) and marking (4) it is: 13, with direct evidence.
    assert suggest("HZ-4", "CHA", {"other_find_in": 1}, config, []).suggested == "SHA"
    s = suggest("HZ-4", "CHA", {"other_find_in": 1, "witness_report": 1, "marking": 1}, config, [])
    assert (s.score, s.suggested, s.disagrees) == (13.0, "CHA", False)
    # Nothing at all: SHA, flagged.
    s = suggest("HZ-5", "CHA", {}, config, [])
    assert (s.score, s.suggested, s.no_evidence, s.disagrees) == (0.0, "SHA", True, True)


def test_declared_evidence_from_the_column_or_the_source_columns() -> None:
    assert declared_evidence("Witness report; military records", None) == ["witness_report", "military_records"]
    assert declared_evidence(None, json.dumps({"Evidence": "visible mines,marking"})) == ["visible_mines", "marking"]
    assert declared_evidence(None, "not json") == []
    assert declared_evidence(None, None) == []


def test_a_weights_file_changes_only_what_it_names(tmp_path: Path) -> None:
    toml = tmp_path / "w.toml"
    toml.write_text(
        '[thresholds]\ncha = 6.0\n[evidence.drone_imagery]\nkind = "direct"\nweight = 8.0\n'
        "[evidence.witness_report]\nweight = 0.5\n",
        "utf-8",
    )
    config = load_classification(toml)
    assert config.cha == 6.0 and config.sha == 1.0
    assert config.evidence["drone_imagery"].direct and config.evidence["drone_imagery"].weight == 8.0
    assert config.evidence["witness_report"].weight == 0.5 and not config.evidence["witness_report"].direct
    assert suggest("H", "SHA", {"other_find_in": 1}, config, []).suggested == "CHA"
    as_json = tmp_path / "w.json"
    as_json.write_text(json.dumps({"counting": {"near_m": 250}}), "utf-8")
    assert load_classification(as_json).near_m == 250.0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[thresholds]\nchaa = 3\n", "unknown setting 'chaa' in [thresholds]"),
        ("[weights]\nx = 1\n", "unknown section [weights]"),
        ("[thresholds]\ncha = -1\n", "thresholds.cha must be a number, 0 or more"),
        ("[thresholds]\nsha = 20\n", "must not exceed"),
        ('[evidence.x]\nkind = "maybe"\nweight = 1\n', 'evidence.x.kind must be "direct" or "indirect"'),
        ("[counting]\nmax_count = 0\n", "max_count must be a whole number"),
        ("[thresholds\n", "is not valid TOML"),
    ],
)
def test_bad_weights_files_are_refused_in_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "w.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(InvalidInput, match=words.replace("[", r"\[").replace("]", r"\]")):
        load_classification(path)


def test_a_missing_weights_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="does not exist"):
        load_classification(tmp_path / "nope.toml")


def _box(x: float) -> shapely.MultiPolygon:
    # About 730 m x 1,110 m at 49 degrees north.
    return shapely.MultiPolygon([shapely.box(x, 49.0, x + 0.01, 49.01)])


def test_classify_a_database_from_finds_accidents_and_recorded_evidence(gpkg: Store) -> None:
    a, b, c, d = gpkg.add(
        "hazards",
        [
            NewFeature({"hazard_class": "SHA", "status": "active"}, _box(36.0)),
            NewFeature({"hazard_class": "CHA", "status": "active"}, _box(36.1)),
            NewFeature(
                {"hazard_class": "SHA", "status": "active", "extra": json.dumps({"evidence": "witness report"})},
                _box(36.2),
            ),
            NewFeature({"hazard_class": "EOD", "status": "active"}, _box(36.3)),
        ],
        WHO,
    )
    gpkg.add(
        "finds",
        [
            # A PMN-2 inside A (not linked): direct evidence, A should be CHA.
            NewFeature({"ordnance_category": "Landmine", "quantity": 1}, shapely.Point(36.005, 49.005)),
            # A mortar bomb about 70 m east of C's edge (0.001 degrees of longitude at 49 N): near C.
            NewFeature({"ordnance_category": "Unexploded ordnance"}, shapely.Point(36.211, 49.005)),
        ],
        WHO,
    )
    gpkg.add(
        "accidents",
        [
            # Linked to B, with no location: counts as in B.
            NewFeature({"hazard_id": b, "accident_class": "uxo"}),
            # 1 km from everything: counts for nothing.
            NewFeature({"accident_class": "mine"}, shapely.Point(36.05, 49.1)),
        ],
        WHO,
    )
    report = classify(gpkg, load_classification())
    by_id = {s.hazard_id: s for s in report.suggestions}
    assert report.not_classified == 1 and d not in by_id
    assert by_id[a].counts == {"mine_find_in": 1}
    assert (by_id[a].suggested, by_id[a].disagrees) == ("CHA", True)
    assert by_id[b].counts == {"other_accident_in": 1}
    assert (by_id[b].score, by_id[b].suggested, by_id[b].disagrees) == (6.0, "SHA", True)
    assert by_id[c].counts == {"other_find_near": 1, "witness_report": 1}
    assert by_id[c].score == 1.0 + 3.0 and by_id[c].suggested == "SHA" and not by_id[c].disagrees
    data = report.as_dict()
    assert data["disagreements"] == 2 and data["hazards"] == 3


def test_a_record_counts_once_in_each_hazard_it_is_linked_to_or_inside_and_near_only_when_unlinked(
    gpkg: Store,
) -> None:
    # B spans 36.02 to 36.03; C starts 0.001 degrees (about 73 m) east of it; E and F have no evidence at all.
    a, b, c, e, f = gpkg.add(
        "hazards",
        [NewFeature({"hazard_class": "SHA", "status": "active"}, _box(x)) for x in (36.0, 36.02, 36.031, 36.2, 36.3)],
        WHO,
    )
    gpkg.add(
        "finds",
        [
            # Linked to A, inside B, about 80 m from C: in A and in B, not near C (it is A's evidence).
            NewFeature({"hazard_id": a, "ordnance_category": "Landmine"}, shapely.Point(36.0299, 49.005)),
            # Unlinked, inside B and about 80 m from C: in B, near C.
            NewFeature({"ordnance_category": "Unexploded ordnance"}, shapely.Point(36.0299, 49.006)),
            # Linked to B and inside it: counted once.
            NewFeature({"hazard_id": b, "ordnance_category": "Landmine"}, shapely.Point(36.0299, 49.004)),
        ],
        WHO,
    )
    by_id = {s.hazard_id: s for s in classify(gpkg, load_classification()).suggestions}
    assert by_id[a].counts == {"mine_find_in": 1}
    assert by_id[b].counts == {"mine_find_in": 2, "other_find_in": 1}
    assert by_id[c].counts == {"other_find_near": 1}
    # Hazards with the same evidence are scored alike, yet each suggestion is its own.
    assert (by_id[e].score, by_id[e].counts, by_id[e].no_evidence) == (by_id[f].score, {}, True)
    by_id[e].counts["witness_report"] = 1
    by_id[e].components["witness_report"] = 3.0
    by_id[e].unknown_evidence.append("drone_imagery")
    assert (by_id[f].counts, by_id[f].components, by_id[f].unknown_evidence) == ({}, {}, [])
