"""OGC API Features: the pure parts (parameters, documents) and the routes over a real GeoPackage."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi import FastAPI, HTTPException, Request
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient; httpx is what is installed here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from landrelease.domain.records import Change, Feature, NewFeature
from landrelease.domain.schema import ACCIDENTS, HAZARDS, VICTIMS
from landrelease.errors import InvalidInput
from landrelease.service import ogc_documents as docs
from landrelease.service.context import Principal, Role
from landrelease.service.ogc import COLLECTIONS, ogc_router
from landrelease.service.ogc_params import (
    MAX_LIMIT,
    DateRange,
    parse_bbox,
    parse_count,
    parse_datetime,
    parse_items_query,
)
from landrelease.store import Store, open_store

TOKEN = "viewer-token"
CHANGE = Change("tester", "test data")
CLASSES = ("SHA", "CHA", "EOD")
STATUSES = ("active", "worked_on", "closed")


def viewer(request: Request) -> Principal:
    """The test app's auth: a bearer token, as the real app takes it."""
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        raise HTTPException(status_code=401, detail="authentication required")
    return Principal("viewer", Role.VIEWER)


def make_app(store: Store) -> FastAPI:
    app = FastAPI()
    app.state.store = store
    app.include_router(ogc_router(viewer), prefix="/ogc")
    return app


def fill(store: Store) -> None:
    """25 hazards on a grid in Ukraine with classes, statuses and dates cycling; one of each other layer."""
    hazards = [
        NewFeature(
            {
                "hazard_class": CLASSES[i % 3],
                "status": STATUSES[i % 3],
                "reported_date": f"2023-{1 + i % 12:02d}-15",
                "name": f"Field {i}",
            },
            shapely.box(30 + (i % 5) * 0.1, 49 + (i // 5) * 0.1, 30.05 + (i % 5) * 0.1, 49.05 + (i // 5) * 0.1),
        )
        for i in range(25)
    ]
    hazard_ids = store.add("hazards", hazards, CHANGE)
    store.add(
        "outcomes",
        [NewFeature({"hazard_id": hazard_ids[0], "kind": "cleared"}, shapely.box(30, 49, 30.02, 49.05))],
        CHANGE,
    )
    store.add("finds", [NewFeature({"ordnance_category": "Landmine"}, shapely.Point(30.01, 49.01))], CHANGE)
    accident = store.add("accidents", [NewFeature({"accident_date": "2022-06-01"}, shapely.Point(31, 48))], CHANGE)
    store.add("victims", [NewFeature({"accident_id": accident[0], "full_name": "Secret Person"})], CHANGE)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(str(tmp_path / "ogc.gpkg"), create=True)
    fill(opened)
    yield opened
    opened.close()


@pytest.fixture
def client(store: Store) -> TestClient:
    return TestClient(make_app(store), headers={"Authorization": f"Bearer {TOKEN}"})


def items(client: TestClient, collection: str = "hazards", **params: Any) -> dict[str, Any]:
    response = client.get(f"/ogc/collections/{collection}/items", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    document: dict[str, Any] = response.json()
    return document


def rels(document: dict[str, Any]) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in document["links"]}


# --- pure parts -------------------------------------------------------------------------------------------


def test_bbox_parses_four_or_six_numbers_and_splits_at_the_antimeridian() -> None:
    assert parse_bbox("30,49,31,50") == ((30.0, 49.0, 31.0, 50.0),)
    assert parse_bbox("30,49,0,31,50,10") == ((30.0, 49.0, 31.0, 50.0),)
    assert parse_bbox("170,-10,-170,10") == ((170.0, -10.0, 180.0, 10.0), (-180.0, -10.0, -170.0, 10.0))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("30,49,31", "4 numbers"),
        ("a,b,c,d", "numbers"),
        ("30,49,31,nan", "finite"),
        ("30,91,31,92", "latitudes"),
        ("30,50,31,49", "above maxy"),
        ("200,49,201,50", "longitudes"),
    ],
)
def test_bad_bbox_is_refused_with_a_message(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        parse_bbox(text)


@pytest.mark.parametrize("text", ["0", "-1", str(MAX_LIMIT + 1), "ten", "1.5"])
def test_limit_outside_its_range_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="limit"):
        parse_count("limit", text, 1, MAX_LIMIT)


def test_datetime_instants_and_intervals() -> None:
    assert parse_datetime("2023-05-01") == DateRange("2023-05-01", "2023-05-01")
    assert parse_datetime("2023-05-01T10:00:00Z") == DateRange("2023-05-01", "2023-05-01")
    assert parse_datetime("2023-01-01/2023-06-30") == DateRange("2023-01-01", "2023-06-30")
    assert parse_datetime("../2023-06-30") == DateRange(None, "2023-06-30")
    assert parse_datetime("2023-01-01/..") == DateRange("2023-01-01", None)
    assert parse_datetime("2023-01-01/") == DateRange("2023-01-01", None)
    assert DateRange("2023-01-01", None).matches("2023-02-01")
    assert not DateRange("2023-01-01", None).matches(None)


@pytest.mark.parametrize("text", ["yesterday", "2023-02-30", "../..", "2023-06-01/2023-01-01", "a/b/c"])
def test_bad_datetime_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_datetime(text)


def test_items_query_types_filters_and_refuses_unknown_or_repeated_parameters() -> None:
    query = parse_items_query(HAZARDS, [("status", "active"), ("limit", "5"), ("reported_date", "2023-01-15")])
    assert query.equals == {"status": "active", "reported_date": "2023-01-15"} and query.limit == 5
    with pytest.raises(InvalidInput, match="unknown query parameter 'colour'"):
        parse_items_query(HAZARDS, [("colour", "red")])
    with pytest.raises(InvalidInput, match="once"):
        parse_items_query(HAZARDS, [("status", "active"), ("status", "closed")])
    with pytest.raises(InvalidInput, match="one of"):
        parse_items_query(HAZARDS, [("status", "exploded")])
    with pytest.raises(InvalidInput, match="whole number"):
        parse_items_query(ACCIDENTS, [("killed", "many")])
    with pytest.raises(InvalidInput, match="f="):
        parse_items_query(HAZARDS, [("f", "html")])
    # Personal fields are not queryable, so they are unknown parameters.
    with pytest.raises(InvalidInput, match="unknown query parameter 'full_name'"):
        parse_items_query(VICTIMS, [("full_name", "x")])


def test_paging_links_keep_the_filters_and_stop_at_the_end() -> None:
    record = Feature("HZ-000001", "hazards", {"status": "active"}, shapely.Point(0, 0), 3)
    page = docs.feature_collection(
        "http://h/ogc", HAZARDS, [record], matched=3, offset=1, limit=1, parameters={"status": "active"}
    )
    links = rels(page)
    assert links["next"] == "http://h/ogc/collections/hazards/items?status=active&limit=1&offset=2"
    assert links["prev"].endswith("offset=0") and "collection" in links
    assert page["numberMatched"] == 3 and page["numberReturned"] == 1
    assert page["features"][0]["properties"]["version"] == 3
    last = docs.feature_collection("http://h/ogc", HAZARDS, [record], matched=3, offset=2, limit=1, parameters={})
    assert "next" not in rels(last)


def test_queryables_never_list_personal_fields() -> None:
    schema = docs.queryables("http://h/ogc", VICTIMS)
    assert "full_name" not in schema["properties"] and "sex" in schema["properties"]
    hazards = docs.queryables("http://h/ogc", HAZARDS)
    assert hazards["properties"]["status"]["enum"] == ["active", "worked_on", "closed", "handed_over"]
    assert hazards["properties"]["reported_date"]["format"] == "date"


def test_victims_and_tables_without_geometry_are_not_collections() -> None:
    assert set(COLLECTIONS) == {
        "hazards",
        "activities",
        "outcomes",
        "finds",
        "accidents",
        "eore",
        "admin-areas",
        "context",
        "minefields",
        "risk-cells",
    }


# --- over HTTP --------------------------------------------------------------------------------------------


def test_landing_page_and_conformance(client: TestClient) -> None:
    landing = client.get("/ogc/")
    assert landing.status_code == 200
    links = rels(landing.json())
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert links["data"].endswith("/ogc/collections")
    assert client.get("/ogc").json() == landing.json()
    conformance = client.get(links["conformance"].replace("http://testserver", "")).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters" in conformance


def test_anonymous_requests_are_refused(store: Store) -> None:
    anonymous = TestClient(make_app(store))
    assert anonymous.get("/ogc/collections").status_code == 401
    assert anonymous.get("/ogc/collections/hazards/items").status_code == 401


def test_collections_have_extents_from_the_data(client: TestClient, store: Store) -> None:
    document = client.get("/ogc/collections", headers={"Accept": "application/json"}).json()
    by_id = {c["id"]: c for c in document["collections"]}
    assert set(by_id) == set(COLLECTIONS)
    hazards = by_id["hazards"]
    assert hazards["itemType"] == "feature" and docs.CRS84 in hazards["crs"]
    _, geometries, _ = store.columns("hazards", [])
    assert hazards["extent"]["spatial"]["bbox"][0] == pytest.approx(list(shapely.total_bounds(geometries)))
    assert hazards["extent"]["temporal"]["interval"] == [["2023-01-15", "2023-12-15"]]
    assert {"self", "items", docs.QUERYABLES_REL} <= set(rels(hazards))
    assert client.get("/ogc/collections/hazards").json()["id"] == "hazards"
    missing = client.get("/ogc/collections/victims")
    assert missing.status_code == 404 and "victims" not in missing.json()["description"].split(":")[-1]


def test_items_are_geojson_with_counts_and_links(client: TestClient, store: Store) -> None:
    page = items(client, limit=10)
    assert page["type"] == "FeatureCollection"
    assert page["numberMatched"] == 25 and page["numberReturned"] == 10
    assert {"self", "next", "collection"} <= set(rels(page)) and "timeStamp" in page
    first = page["features"][0]
    assert first["id"] == "HZ-000001"
    assert first["properties"]["hazard_class"] == "SHA" and first["properties"]["version"] == 1
    assert first["geometry"]["type"] == "MultiPolygon"
    assert shapely.geometry.shape(first["geometry"]).equals(store.get("HZ-000001").geometry)


def test_following_next_returns_every_feature_exactly_once(client: TestClient) -> None:
    seen: list[str] = []
    url: str | None = "/ogc/collections/hazards/items?limit=7"
    while url is not None:
        page = client.get(url).json()
        seen += [f["id"] for f in page["features"]]
        url = rels(page).get("next")
    assert sorted(seen) == [f"HZ-{n:06d}" for n in range(1, 26)] and len(seen) == 25


def test_bbox_selects_features_meeting_the_box(client: TestClient, store: Store) -> None:
    box = (30.0, 49.0, 30.12, 49.12)
    page = items(client, bbox=",".join(map(str, box)))
    expected = [
        f.id for f in store.features("hazards") if f.geometry is not None and f.geometry.intersects(shapely.box(*box))
    ]
    assert [f["id"] for f in page["features"]] == expected and page["numberMatched"] == 4
    assert items(client, bbox="10,10,11,11")["numberMatched"] == 0


def test_datetime_and_property_filters(client: TestClient, store: Store) -> None:
    everything = list(store.features("hazards"))
    january = items(client, datetime="2023-01-15")
    assert {f["id"] for f in january["features"]} == {
        f.id for f in everything if f.attributes["reported_date"] == "2023-01-15"
    }
    first_half = items(client, datetime="../2023-06-30")
    assert first_half["numberMatched"] == sum(
        1 for f in everything if str(f.attributes["reported_date"]) <= "2023-06-30"
    )
    active_cha = items(client, status="active", hazard_class="CHA")
    expected = {
        f.id for f in everything if f.attributes["status"] == "active" and f.attributes["hazard_class"] == "CHA"
    }
    assert {f["id"] for f in active_cha["features"]} == expected
    assert all("status=active" in link["href"] for link in active_cha["links"] if link["rel"] == "self")


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=10001", "bbox=1,2,3", "bbox=1,2,x,4", "datetime=soon", "colour=red", "f=html", "offset=-1"],
)
def test_bad_items_requests_get_400_with_a_message(client: TestClient, query: str) -> None:
    response = client.get(f"/ogc/collections/hazards/items?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameterValue" and response.json()["description"]


def test_f_json_and_accept_headers(client: TestClient) -> None:
    assert client.get("/ogc/collections/hazards/items?f=json&limit=1").status_code == 200
    response = client.get("/ogc/collections/hazards/items", headers={"Accept": "application/geo+json"})
    assert response.headers["content-type"].startswith("application/geo+json")
    assert client.get("/ogc/conformance?f=json").status_code == 200
    assert client.get("/ogc/conformance?f=xml").status_code == 400


def test_one_feature_and_404s(client: TestClient, store: Store) -> None:
    response = client.get("/ogc/collections/hazards/items/HZ-000003")
    assert response.status_code == 200 and response.json()["id"] == "HZ-000003"
    assert response.headers["content-type"].startswith("application/geo+json")
    assert {"self", "collection"} <= set(rels(response.json()))
    for url in (
        "/ogc/collections/hazards/items/HZ-999999",
        "/ogc/collections/hazards/items/FD-000001",  # exists, but in another collection
        "/ogc/collections/accidents/items/VC-000001",  # a victim: never here
        "/ogc/collections/nothing/items",
    ):
        missing = client.get(url)
        assert missing.status_code == 404 and missing.json()["code"] == "NotFound", url
    store.retire("HZ-000003", CHANGE)
    assert client.get("/ogc/collections/hazards/items/HZ-000003").status_code == 404
    assert items(client)["numberMatched"] == 24


def test_no_personal_data_anywhere(client: TestClient) -> None:
    for path in ("/ogc/collections", "/ogc/collections/accidents/items", "/ogc/collections/accidents/queryables"):
        assert "Secret Person" not in client.get(path).text


def test_queryables_document(client: TestClient) -> None:
    response = client.get("/ogc/collections/hazards/queryables")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/schema+json")
    schema = response.json()
    assert schema["type"] == "object" and "hazard_class" in schema["properties"]


def test_new_records_and_moved_geometries_show_at_once(client: TestClient, store: Store) -> None:
    box = "35,45,35.1,45.1"
    assert items(client, bbox=box)["numberMatched"] == 0
    store.update("HZ-000002", CHANGE, geometry=shapely.box(35.01, 45.01, 35.02, 45.02))
    assert [f["id"] for f in items(client, bbox=box)["features"]] == ["HZ-000002"]
    store.add(
        "hazards", [NewFeature({"hazard_class": "SHA", "status": "active"}, shapely.box(35, 45, 35.01, 45.01))], CHANGE
    )
    assert items(client, bbox=box)["numberMatched"] == 2


def test_gdal_style_open_datetime_and_activity_periods(client: TestClient, store: Store) -> None:
    # GDAL's OAPIF client sends ``reported_date >= '2023-10-01'`` as ``datetime=2023-10-01T/..``.
    late = items(client, datetime="2023-10-01T/..")
    assert late["numberMatched"] == sum(
        1 for f in store.features("hazards") if str(f.attributes["reported_date"]) >= "2023-10"
    )
    periods = [("2023-01-01", "2023-03-01"), ("2023-05-01", None), (None, "2023-12-31")]
    for start, end in periods:
        attributes = {"activity_type": "nts", "status": "completed", "start_date": start, "end_date": end}
        store.add("activities", [NewFeature(attributes, shapely.box(30, 49, 30.01, 49.01))], CHANGE)
    assert [f["id"] for f in items(client, "activities", datetime="2023-02-01/2023-02-28")["features"]] == ["AC-000001"]
    assert [f["id"] for f in items(client, "activities", datetime="2023-05-01")["features"]] == ["AC-000002"]
    assert len(items(client, "activities", datetime="2023-12-01/..")["features"]) == 1
