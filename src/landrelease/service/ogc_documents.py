"""The JSON documents of OGC API Features (17-069r4 Part 1, 19-079r2 Part 3 queryables), built from plain
values. Pure: the router passes URLs and records in, and sends what comes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from landrelease.domain.records import Feature
from landrelease.domain.schema import FieldType, GeometryKind, Layer
from landrelease.service.ogc_params import CRS84, queryable_fields

JSON = "application/json"
GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

#: Conformance classes this implementation meets (and only those).
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
)

Document = dict[str, Any]


def collection_id(layer: Layer) -> str:
    """The collection id of a layer in URLs: ``admin_areas`` is ``admin-areas``."""
    return layer.name.replace("_", "-")


def link(href: str, rel: str, media_type: str, title: str | None = None) -> Document:
    result: Document = {"href": href, "rel": rel, "type": media_type}
    if title is not None:
        result["title"] = title
    return result


def landing_page(root: str, openapi_url: str | None) -> Document:
    """``root`` is the URL of the landing page without its trailing slash."""
    links = [link(f"{root}/", "self", JSON, "This document")]
    if openapi_url is not None:
        links.append(link(openapi_url, "service-desc", OPENAPI, "The API definition"))
    links += [
        link(f"{root}/conformance", "conformance", JSON, "Conformance classes implemented"),
        link(f"{root}/collections", "data", JSON, "The collections (layers)"),
    ]
    return {
        "title": "landrelease: national mine action database",
        "description": "Hazardous areas, land release outcomes, finds, accidents, EORE sessions and activities "
        "as OGC API Features. Victims' personal data is never served here.",
        "links": links,
    }


def conformance() -> Document:
    return {"conformsTo": list(CONFORMANCE)}


def collection(
    root: str,
    layer: Layer,
    bounds: tuple[float, float, float, float] | None,
    interval: tuple[str | None, str | None] | None,
) -> Document:
    """One collection's metadata; ``bounds`` and ``interval`` come from the data (None: no data yet)."""
    cid = collection_id(layer)
    base = f"{root}/collections/{cid}"
    extent: Document = {
        "spatial": {"bbox": [list(bounds) if bounds is not None else [-180.0, -90.0, 180.0, 90.0]], "crs": CRS84}
    }
    if interval is not None:
        extent["temporal"] = {
            "interval": [list(interval)],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return {
        "id": cid,
        "title": layer.title,
        "description": f"{layer.title}: current records of the national database (layer {layer.name}).",
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": extent,
        "links": [
            link(base, "self", JSON, "This collection"),
            link(f"{base}/items", "items", GEOJSON, f"{layer.title} (GeoJSON)"),
            link(f"{base}/queryables", QUERYABLES_REL, SCHEMA_JSON, "Properties that can be filtered on"),
        ],
    }


def collections(root: str, documents: Sequence[Document]) -> Document:
    return {
        "links": [link(f"{root}/collections", "self", JSON, "The collections")],
        "collections": list(documents),
    }


def feature(root: str, layer: Layer, record: Feature, *, with_links: bool = True) -> Document:
    """A record as a GeoJSON feature: id is the record id; properties are the (non-personal) fields and
    the record's version."""
    properties: Document = {name: record.attributes.get(name) for name in queryable_fields(layer)}
    properties["version"] = record.version
    geometry = record.geometry
    result: Document = {
        "type": "Feature",
        "id": record.id,
        "geometry": geometry.__geo_interface__ if geometry is not None and not geometry.is_empty else None,
        "properties": properties,
    }
    if with_links:
        base = f"{root}/collections/{collection_id(layer)}"
        result["links"] = [
            link(f"{base}/items/{record.id}", "self", GEOJSON, "This feature"),
            link(base, "collection", JSON, "The collection"),
        ]
    return result


def items_url(root: str, layer: Layer, parameters: Mapping[str, str]) -> str:
    query = urlencode(parameters)
    return f"{root}/collections/{collection_id(layer)}/items" + (f"?{query}" if query else "")


def feature_collection(
    root: str,
    layer: Layer,
    records: Sequence[Feature],
    *,
    matched: int,
    offset: int,
    limit: int,
    parameters: Mapping[str, str],
    now: datetime | None = None,
) -> Document:
    """A page of features with ``numberMatched``, ``numberReturned`` and self/prev/next/collection links.

    ``parameters`` are the request's own query parameters (limit and offset are set here), so paging links
    keep the filters.
    """

    def page(at: int) -> str:
        return items_url(root, layer, {**parameters, "limit": str(limit), "offset": str(at)})

    links = [link(page(offset), "self", GEOJSON, "This page")]
    if offset + len(records) < matched:
        links.append(link(page(offset + limit), "next", GEOJSON, "Next page"))
    if offset > 0:
        links.append(link(page(max(0, offset - limit)), "prev", GEOJSON, "Previous page"))
    links.append(link(f"{root}/collections/{collection_id(layer)}", "collection", JSON, "The collection"))
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": "FeatureCollection",
        "features": [feature(root, layer, r) for r in records],
        "links": links,
        "timeStamp": stamp,
        "numberMatched": matched,
        "numberReturned": len(records),
    }


_JSON_TYPES = {
    FieldType.TEXT: {"type": "string"},
    FieldType.INTEGER: {"type": "integer"},
    FieldType.REAL: {"type": "number"},
    FieldType.DATE: {"type": "string", "format": "date"},
    FieldType.BOOLEAN: {"type": "boolean"},
}
_GEOMETRY_FORMATS = {GeometryKind.POLYGON: "geometry-multipolygon", GeometryKind.POINT: "geometry-point"}


def queryables(root: str, layer: Layer) -> Document:
    """The JSON Schema of the properties a request may filter on (Part 3 /req/queryables)."""
    properties: Document = {}
    for spec in layer.fields:
        if spec.personal:
            continue
        entry: Document = {"title": spec.label, **_JSON_TYPES[spec.type]}
        if spec.choices is not None:
            entry["enum"] = list(spec.choices)
        properties[spec.name] = entry
    if layer.geometry in _GEOMETRY_FORMATS:
        properties["geometry"] = {"format": _GEOMETRY_FORMATS[layer.geometry], "x-ogc-role": "primary-geometry"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{root}/collections/{collection_id(layer)}/queryables",
        "type": "object",
        "title": layer.title,
        "properties": properties,
        "additionalProperties": False,
    }


def exception(code: str, description: str) -> Document:
    """The OGC API exception document."""
    return {"code": code, "description": description}
