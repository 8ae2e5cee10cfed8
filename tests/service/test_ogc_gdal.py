"""A real OGC API Features client reads the service: GDAL's OAPIF driver (what QGIS builds on), over HTTP
from uvicorn on loopback, with a bearer token.

The server runs in a child process, not a thread: pyogrio keeps the GIL while GDAL pages through items, so a
server thread in the same interpreter could never answer GDAL's second request.
"""

from __future__ import annotations

import multiprocessing
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pyogrio.raw
import pytest
import shapely
import uvicorn
from fastapi import FastAPI, HTTPException, Request

from landrelease.domain.records import Change, NewFeature
from landrelease.service.context import Principal, Role
from landrelease.service.ogc import ogc_router
from landrelease.store import Store, open_store

TOKEN = "gdal-viewer-token"
CHANGE = Change("tester", "test data")

pytestmark = pytest.mark.skipif("OAPIF" not in pyogrio.list_drivers(), reason="this GDAL has no OAPIF driver")


def viewer(request: Request) -> Principal:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        raise HTTPException(status_code=401, detail="authentication required")
    return Principal("viewer", Role.VIEWER)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(str(tmp_path / "gdal.gpkg"), create=True)
    # 250 hazards (more than one page of GDAL's), holed and multi-part ones among them.
    hazards = []
    for i in range(250):
        x, y = 30 + (i % 25) * 0.05, 48 + (i // 25) * 0.05
        shape = shapely.box(x, y, x + 0.04, y + 0.04)
        if i % 10 == 0:
            shape = shape.difference(shapely.box(x + 0.01, y + 0.01, x + 0.02, y + 0.02))
        if i % 10 == 1:
            shape = shapely.MultiPolygon(
                [shapely.box(x, y, x + 0.01, y + 0.01), shapely.box(x + 0.02, y, x + 0.03, y + 0.01)]
            )
        attributes = {"hazard_class": ("SHA", "CHA")[i % 2], "status": "active", "reported_date": "2024-03-01"}
        hazards.append(NewFeature(attributes, shape))
    opened.add("hazards", hazards, CHANGE)
    opened.add(
        "finds", [NewFeature({"ordnance_category": "Landmine", "quantity": 2}, shapely.Point(30.1, 48.1))], CHANGE
    )
    yield opened
    opened.close()


def serve(path: str, port: int) -> None:
    """The child process: the OGC router over the GeoPackage at ``path``."""
    app = FastAPI()
    app.state.store = open_store(path)
    app.include_router(ogc_router(viewer), prefix="/ogc")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


@pytest.fixture
def server(store: Store) -> Iterator[str]:
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(target=serve, args=(store.location, port), daemon=True)
    process.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ogc/", timeout=1)
        except urllib.error.HTTPError as refused:
            refused.close()
            break  # 401: it is up
        except OSError:
            if time.monotonic() > deadline or not process.is_alive():
                process.kill()
                raise RuntimeError("the test server did not start") from None
            time.sleep(0.1)
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": TOKEN})
    try:
        yield f"OAPIF:http://127.0.0.1:{port}/ogc"
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})
        process.terminate()
        process.join(timeout=10)


def test_gdal_lists_the_collections(server: str) -> None:
    names = {str(row[0]) for row in pyogrio.list_layers(server)}
    assert {
        "hazards",
        "outcomes",
        "finds",
        "accidents",
        "eore",
        "activities",
        "admin-areas",
        "context",
        "minefields",
        "risk-cells",
    } == names


def test_gdal_reads_every_hazard_as_stored(server: str, store: Store) -> None:
    meta, _, geometries, fields = pyogrio.raw.read(server, layer="hazards")
    columns = dict(zip(meta["fields"], fields, strict=True))
    # GDAL keeps the GeoJSON feature id as a field "id".
    ids = [str(v) for v in columns["id"]]
    expected = {f.id: f for f in store.features("hazards")}
    assert sorted(ids) == sorted(expected) and len(ids) == 250
    for record_id, wkb, status, hazard_class in zip(
        ids, geometries, columns["status"], columns["hazard_class"], strict=True
    ):
        record = expected[record_id]
        assert record.geometry is not None and shapely.from_wkb(wkb).equals(record.geometry)
        assert (status, hazard_class) == (record.attributes["status"], record.attributes["hazard_class"])


def test_gdal_filters_by_bbox_and_attributes(server: str, store: Store) -> None:
    box = (30.0, 48.0, 30.2, 48.1)
    _, _, _, fields = pyogrio.raw.read(server, layer="hazards", bbox=box)
    read = pyogrio.raw.read(server, layer="hazards", bbox=box, columns=["id"])
    ids = {str(v) for v in read[3][0]}
    expected = {
        f.id for f in store.features("hazards") if f.geometry is not None and f.geometry.intersects(shapely.box(*box))
    }
    assert ids == expected and fields
    _, _, _, cha = pyogrio.raw.read(server, layer="hazards", where="hazard_class = 'CHA'", columns=["hazard_class"])
    assert set(cha[0]) == {"CHA"} and len(cha[0]) == 125


def test_gdal_reads_points(server: str) -> None:
    meta, _, geometries, fields = pyogrio.raw.read(server, layer="finds")
    columns = dict(zip(meta["fields"], fields, strict=True))
    assert list(columns["ordnance_category"]) == ["Landmine"] and int(columns["quantity"][0]) == 2
    assert shapely.from_wkb(geometries[0]).equals(shapely.Point(30.1, 48.1))
