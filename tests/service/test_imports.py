"""``/api/imports``: any format in, the importer's validation report out, and on confirm reports for review."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from shapely.geometry import box, mapping

from landrelease.domain.records import NewFeature
from landrelease.store import open_store
from tests.service.conftest import NEW_AREA, SETUP, Programme


def _geojson(*features: tuple[dict[str, Any], Any]) -> bytes:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": p, "geometry": g if isinstance(g, dict) or g is None else mapping(g)}
                for p, g in features
            ],
        }
    ).encode()


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[37.1, 49.1], [37.11, 49.11], [37.11, 49.1], [37.1, 49.11], [37.1, 49.1]]],
}
FILE = _geojson(
    ({"name": "Good field", "hazard_class": "CHA"}, NEW_AREA),
    ({"name": "Bow tie"}, BOWTIE),
    ({"name": "Nowhere"}, None),
)


def _post(client: Any, name: str, data: bytes, **form: str) -> Any:
    return client.post("/api/imports", files={"file": (name, data)}, data={"layer": "hazards", **form})


def test_checking_a_file_writes_nothing_and_says_why_each_feature_was_refused(programme: Programme) -> None:
    response = _post(programme.client("operator"), "field report.geojson", FILE)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["features"], report["valid"], report["rejected"], report["confirmed"]) == (3, 1, 2, False)
    assert report["file"] == "field_report.geojson" and report["submitted"] == []
    assert [e["index"] for e in report["errors"]] == [1, 2]
    assert "self-intersect" in report["errors"][0]["reason"] and report["errors"][1]["reason"]
    listed = programme.client("operator").get("/api/submissions").json()
    assert listed["submissions"] == []


def test_confirm_submits_each_valid_feature_as_a_report_for_review(programme: Programme) -> None:
    response = _post(programme.client("operator"), "report.geojson", FILE, confirm="true", on_invalid="repair")
    report = response.json()
    assert response.status_code == 200, response.text
    assert (report["valid"], report["repaired"], report["rejected"]) == (2, 1, 1)
    assert [s["index"] for s in report["submitted"]] == [0, 1]
    reviewer = programme.client("reviewer")
    first = reviewer.get(f"/api/submissions/{report['submitted'][0]['id']}").json()
    assert first["status"] == "submitted" and first["organisation"] == "Org A"
    assert first["attributes"]["name"] == "Good field" and first["attributes"]["source"] == "report.geojson"
    with open_store(programme.db) as store:
        assert store.count("hazards") == 1  # nothing enters the national record before a reviewer approves
    approved = reviewer.post(f"/api/submissions/{first['id']}/approve", json={"reconcile": "new"})
    assert approved.status_code == 200, approved.text
    with open_store(programme.db) as store:
        assert store.count("hazards") == 2


def test_other_formats_come_in_too(programme: Programme, tmp_path: Path) -> None:
    path = tmp_path / "finds.gpkg"
    pyogrio.raw.write(
        path,
        shapely.to_wkb([shapely.Point(37.025, 49.005)]),
        [np.array(["PMN-2"], dtype=object)],
        fields=["ordnance_model"],
        crs="EPSG:4326",
        geometry_type="Point",
        driver="GPKG",
    )
    client = programme.client("operator")
    response = client.post(
        "/api/imports", files={"file": ("finds.gpkg", path.read_bytes())}, data={"layer": "finds", "confirm": "true"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["valid"] == 1 and len(response.json()["submitted"]) == 1
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("../../escape.geojson", FILE)
    refused = _post(client, "evil.zip", buffer.getvalue())
    assert refused.status_code in (400, 422) and "error" in refused.json()


def test_bad_uploads_get_one_clear_line(programme: Programme) -> None:
    client = programme.client("operator")
    no_extension = _post(client, "report", FILE)
    assert no_extension.status_code == 400 and "extension" in no_extension.json()["error"]
    garbage = _post(client, "report.geojson", b"{not json")
    assert garbage.status_code in (400, 422) and "report.geojson" in garbage.json()["error"]
    authority_layer = client.post(
        "/api/imports", files={"file": ("a.geojson", FILE)}, data={"layer": "admin-areas"}
    ).json()
    assert "reports cover" in authority_layer["error"]
    assert (
        programme.client("viewer")
        .post("/api/imports", files={"file": ("a.geojson", FILE)}, data={"layer": "hazards"})
        .status_code
        == 403
    )
    assert (
        programme.client("anonymous")
        .post("/api/imports", files={"file": ("a.geojson", FILE)}, data={"layer": "hazards"})
        .status_code
        == 401
    )
    big = box(37.0, 49.0, 37.0001, 49.0001)
    assert _post(client, "tiny.geojson", _geojson(({"name": "x"}, big))).status_code == 200


def test_a_file_report_approved_as_an_update_keeps_the_admin_area_the_file_does_not_give(
    programme: Programme,
) -> None:
    # The existing hazard lies in an admin area; the redrawn outline from the file lies in none, so the import
    # finds no area for it: approving it as an update must not clear the hazard's area (the file said nothing).
    with open_store(programme.db) as store:
        (area,) = store.add(
            "admin_areas", [NewFeature({"name": "Oblast", "level": 1}, box(36.9, 48.9, 37.015, 49.1))], SETUP
        )
        store.update(programme.hazard_id, SETUP, {"admin_area": area})
    redrawn = _geojson(({"name": "North field, redrawn", "hazard_class": "CHA"}, NEW_AREA))
    report = _post(programme.client("operator"), "redrawn.geojson", redrawn, confirm="true").json()
    (submitted,) = report["submitted"]
    decision = {"reconcile": "existing", "target_id": programme.hazard_id, "target_version": 2}
    approved = programme.client("reviewer").post(f"/api/submissions/{submitted['id']}/approve", json=decision)
    assert approved.status_code == 200, approved.text
    with open_store(programme.db) as store:
        hazard = store.get(programme.hazard_id)
    assert hazard.attributes["name"] == "North field, redrawn"
    assert hazard.attributes["admin_area"] == area
