"""``/api/{layer}``: the national record, read by every role, edited directly by reviewers and admins.

One set of routes per layer (so the OpenAPI document names each layer's paths): list with filters and
paging, one record with its version as the ``ETag``, its history, and ``PATCH`` with ``If-Match``.
"""

from __future__ import annotations

import inspect
import math
from typing import Annotated, Any

import shapely.geometry
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from shapely.geometry.base import BaseGeometry

from landrelease.actions.review import edit_record
from landrelease.domain.records import Feature
from landrelease.domain.schema import GeometryKind, Layer, layer_named
from landrelease.errors import InvalidInput, NotFound
from landrelease.service.auth import require
from landrelease.service.context import Principal, Role
from landrelease.service.models import (
    ERRORS,
    ErrorOut,
    FeatureCollectionOut,
    FeatureOut,
    LayerPath,
    RecordEdit,
    RecordId,
    VersionOut,
)
from landrelease.service.privacy import log_if_shown, visible
from landrelease.service.resources import resources
from landrelease.store.protocol import Store

MAX_LIMIT = 1000
#: Filters the list takes, each applied where the layer has that field.
FILTERS = ("status", "hazard_class", "hazard_id")
Filter = Annotated[str | None, Query(max_length=100)]
# Module level: the routes' annotations are strings resolved in this module's namespace.
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Reviewer = Annotated[Principal, Depends(require(Role.REVIEWER))]

router = APIRouter(prefix="/api", responses={**ERRORS, 404: {"model": ErrorOut, "description": "No such record"}})


def geojson(geometry: BaseGeometry | None) -> dict[str, Any] | None:
    if geometry is None or geometry.is_empty:
        return None
    mapped: dict[str, Any] = shapely.geometry.mapping(geometry)
    return mapped


def feature_out(layer: Layer, feature: Feature, principal: Principal) -> FeatureOut:
    properties = {k: _finite(v) for k, v in visible(layer, feature.attributes, principal).items()}
    return FeatureOut(
        id=feature.id,
        layer=feature.layer,
        version=feature.version,
        properties=properties,
        geometry=geojson(feature.geometry),
    )


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` in longitude/latitude."""
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput("bbox takes four numbers: minx,miny,maxx,maxy (longitude/latitude)") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidInput("bbox takes four numbers: minx,miny,maxx,maxy (longitude/latitude)")
    minx, miny, maxx, maxy = values
    if minx > maxx or miny > maxy:
        raise InvalidInput("bbox: the minimum comes before the maximum (minx,miny,maxx,maxy)")
    return minx, miny, maxx, maxy


def _record_of(store: Store, layer: Layer, record_id: str) -> Feature:
    feature = store.get(record_id)
    if feature.layer != layer.name:
        raise NotFound(f"no record {record_id} in {layer.name} (it is in {feature.layer})")
    return feature


def _expected_version(if_match: str | None) -> int:
    if if_match is None:
        raise HTTPException(428, detail="send If-Match with the version you edited (the ETag of the record)")
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 10:
        raise HTTPException(412, detail=f'If-Match takes the record\'s version, e.g. "3", not {if_match!r}')
    return int(text)


def _routes(path: LayerPath) -> None:
    layer = layer_named(path.value)
    tag = layer.title
    spatial = layer.geometry is not GeometryKind.NONE

    def list_records(
        request: Request,
        principal: Viewer,
        status: Filter = None,
        hazard_class: Filter = None,
        hazard_id: Filter = None,
        bbox: Annotated[str | None, Query(max_length=200, description="minx,miny,maxx,maxy")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    ) -> FeatureCollectionOut:
        res = resources(request)
        for asked in request.query_params:
            if asked in FILTERS and asked not in layer.field_names:
                raise InvalidInput(f"{layer.name} cannot be filtered by {asked} (it has no such field)")
            if asked == "bbox" and not spatial:
                raise InvalidInput(f"{layer.name} have no location, so they cannot be filtered by bbox")
        given = {"status": status, "hazard_class": hazard_class, "hazard_id": hazard_id}
        filters = {k: v for k, v in given.items() if v is not None}
        # The database filters, counts and slices (SQL WHERE, the spatial index, LIMIT/OFFSET).
        page, matched = res.store.page(layer.name, equals=filters, bbox=parse_bbox(bbox), limit=limit, offset=offset)
        log_if_shown(res.accounts, layer, principal, [f.id for f in page], f"GET /api/{path.value}")
        return FeatureCollectionOut(
            features=[feature_out(layer, f, principal) for f in page],
            number_matched=matched,
            number_returned=len(page),
            limit=limit,
            offset=offset,
        )

    def get_record(request: Request, response: Response, record_id: RecordId, principal: Viewer) -> FeatureOut:
        res = resources(request)
        feature = _record_of(res.store, layer, record_id)
        log_if_shown(res.accounts, layer, principal, [feature.id], f"GET /api/{path.value}/{record_id}")
        response.headers["ETag"] = f'"{feature.version}"'
        return feature_out(layer, feature, principal)

    def record_history(request: Request, record_id: RecordId, principal: Viewer) -> list[VersionOut]:
        res = resources(request)
        if record_id.split("-")[0] != layer.id_prefix:
            raise NotFound(f"no record {record_id!r} in {layer.name}: its ids look like {layer.id_prefix}-000001")
        versions = res.store.history(record_id)
        log_if_shown(res.accounts, layer, principal, [record_id], f"GET /api/{path.value}/{record_id}/history")
        return [
            VersionOut(
                version=v.version,
                action=v.action.value,
                at=v.change.at,
                author=v.change.author,
                reason=v.change.reason,
                properties={k: _finite(x) for k, x in visible(layer, v.attributes, principal).items()},
                geometry=geojson(v.geometry),
            )
            for v in versions
        ]

    def edit(
        request: Request,
        response: Response,
        record_id: RecordId,
        body: RecordEdit,
        principal: Reviewer,
        if_match: Annotated[str | None, Header(max_length=100)] = None,
    ) -> FeatureOut:
        res = resources(request)
        expected = _expected_version(if_match)
        feature = edit_record(
            res.store, record_id, layer.name, body.attributes, body.geometry, expected, principal.name, body.reason
        )
        log_if_shown(res.accounts, layer, principal, [feature.id], f"PATCH /api/{path.value}/{record_id}")
        response.headers["ETag"] = f'"{feature.version}"'
        return feature_out(layer, feature, principal)

    # Only the filters this layer has appear in its OpenAPI parameters (FastAPI reads the signature).
    signature = inspect.signature(list_records)
    list_records.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if p.name not in FILTERS or p.name in layer.field_names]
    )
    if not spatial:
        signature = inspect.signature(list_records)
        list_records.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[p for p in signature.parameters.values() if p.name != "bbox"]
        )

    name = path.value.replace("-", "_")
    router.add_api_route(
        f"/{path.value}",
        list_records,
        methods=["GET"],
        tags=[tag],
        operation_id=f"list_{name}",
        summary=f"List {layer.title.lower()} (filters, bbox, paging)",
        responses={400: {"model": ErrorOut, "description": "A filter this layer does not have"}},
    )
    router.add_api_route(
        f"/{path.value}/{{record_id}}",
        get_record,
        methods=["GET"],
        tags=[tag],
        operation_id=f"get_{name}",
        summary="One record (its version is the ETag)",
    )
    router.add_api_route(
        f"/{path.value}/{{record_id}}/history",
        record_history,
        methods=["GET"],
        tags=[tag],
        operation_id=f"history_{name}",
        summary="Every version: who, when, why",
    )
    router.add_api_route(
        f"/{path.value}/{{record_id}}",
        edit,
        methods=["PATCH"],
        tags=[tag],
        operation_id=f"edit_{name}",
        summary="Edit directly (reviewers, admins) with If-Match: a stale version gets 409",
        responses={
            409: {"model": ErrorOut, "description": "Changed by someone else since"},
            412: {"model": ErrorOut, "description": "If-Match is not a version"},
            428: {"model": ErrorOut, "description": "If-Match missing"},
        },
    )


for _path in LayerPath:
    _routes(_path)
