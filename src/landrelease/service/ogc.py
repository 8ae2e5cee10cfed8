"""OGC API Features (Part 1 core + GeoJSON, Part 3 queryables as query parameters) over any ``Store``.

``select`` does the querying with plain values; ``ogc_documents`` builds the responses; the router only
translates HTTP to those and back. Mounted by the app at ``/ogc`` behind ``require(Role.VIEWER)``.

Only spatial, non-personal layers are collections (victims never are), and personal fields never appear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from landrelease.domain.records import Feature, Scalar
from landrelease.domain.schema import LAYERS, FieldType, GeometryKind, Layer
from landrelease.errors import LandreleaseError, NotFound
from landrelease.service import ogc_documents as docs
from landrelease.service.context import Principal
from landrelease.service.models import ErrorOut, OgcExceptionOut
from landrelease.service.ogc_index import LAYER_CACHE, LayerCache
from landrelease.service.ogc_params import (
    DATE_FIELDS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PERIOD_FIELDS,
    ItemsQuery,
    check_only,
    parse_items_query,
)
from landrelease.store.protocol import Store

#: The collections: every layer with a geometry, except restricted ones.
COLLECTIONS: dict[str, Layer] = {
    docs.collection_id(layer): layer
    for layer in LAYERS.values()
    if layer.geometry is not GeometryKind.NONE and not layer.personal
}


def collection_layer(collection: str) -> Layer:
    """The layer served as ``collection`` (``admin-areas`` or ``admin_areas``); ``NotFound`` otherwise."""
    layer = COLLECTIONS.get(collection.replace("_", "-").lower())
    if layer is None:
        raise NotFound(f"no collection {collection!r}; collections are: {', '.join(COLLECTIONS)}")
    return layer


@dataclass(frozen=True)
class Page:
    records: list[Feature]
    matched: int


def _equal(kind: FieldType, stored: Scalar, wanted: Scalar) -> bool:
    if kind is FieldType.DATE:
        return isinstance(stored, str) and stored[:10] == wanted
    if kind is FieldType.BOOLEAN:
        return stored is not None and bool(stored) is wanted
    return stored is not None and stored == wanted and type(stored) is not bool


def matching_ids(store: Store, layer: Layer, query: ItemsQuery, cache: LayerCache = LAYER_CACHE) -> list[str]:
    """Ids of the records a query selects, in store (creation) order.

    Attribute filters read only the columns they need (no geometry); ``bbox`` uses the cached STRtree.
    """
    names = list(query.equals)
    date_field = DATE_FIELDS.get(layer.name) if query.dates is not None else None
    period = PERIOD_FIELDS.get(layer.name) if query.dates is not None else None
    for name in (date_field, *(period or ())):
        if name is not None and name not in names:
            names.append(name)
    ids, _, values = store.columns(layer.name, names, geometry=False)
    keep = [True] * len(ids)
    for name, wanted in query.equals.items():
        kind = layer.field(name).type
        keep = [k and _equal(kind, v, wanted) for k, v in zip(keep, values[name], strict=True)]
    if query.dates is not None and period is not None:
        dates, (first, last) = query.dates, period
        keep = [k and dates.meets(a, b) for k, a, b in zip(keep, values[first], values[last], strict=True)]
    elif query.dates is not None and date_field is not None:
        dates = query.dates
        keep = [k and dates.matches(v) for k, v in zip(keep, values[date_field], strict=True)]
    if query.bboxes:
        index = cache.get(store, layer)
        inside: set[str] = set()
        for box in query.bboxes:
            inside.update(index.ids[int(i)] for i in index.query(box))
        keep = [k and i in inside for k, i in zip(keep, ids, strict=True)]
    return [i for i, k in zip(ids, keep, strict=True) if k]


def select(store: Store, layer: Layer, query: ItemsQuery, cache: LayerCache = LAYER_CACHE) -> Page:
    """One page of the records a query selects, and how many it selects in all."""
    if query.dates is None and not query.bboxes and all(layer.field(n).type is FieldType.TEXT for n in query.equals):
        # Plain text equality is SQL ``=``: the database filters, counts and slices. Dates (prefix and period
        # matching), typed values and bboxes (split at the antimeridian, the cached index) stay below.
        records, matched = store.page(layer.name, equals=query.equals, limit=query.limit, offset=query.offset)
        return Page(records, matched)
    ids = matching_ids(store, layer, query, cache)
    records = []
    for record_id in ids[query.offset : query.offset + query.limit]:
        try:
            records.append(store.get(record_id))
        except NotFound:  # retired between the two reads
            continue
    return Page(records, len(ids))


def collection_document(store: Store, root: str, layer: Layer, cache: LayerCache = LAYER_CACHE) -> docs.Document:
    """A collection's metadata with its extent taken from the data."""
    date_field = DATE_FIELDS.get(layer.name)
    index = cache.get(store, layer, [date_field] if date_field else [])
    interval: tuple[str | None, str | None] | None = None
    if date_field is not None:
        days = [v[:10] for v in index.attributes[date_field] if isinstance(v, str) and len(v) >= 10]
        if days:
            interval = (min(days), max(days))
    return docs.collection(root, layer, index.bounds, interval)


# --- HTTP ------------------------------------------------------------------------------------------------

_STATUS_CODES = {400: "InvalidParameterValue", 404: "NotFound", 409: "Conflict"}


def _error(error: LandreleaseError) -> JSONResponse:
    status = error.http_status
    return JSONResponse(docs.exception(_STATUS_CODES.get(status, "ServerError"), error.message), status_code=status)


def _root(request: Request) -> str:
    return str(request.url_for("ogc_landing")).rstrip("/")


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _openapi_url(request: Request) -> str | None:
    path: object = request.app.openapi_url
    if not isinstance(path, str):
        return None
    root_path = str(request.scope.get("root_path", ""))
    return str(request.base_url).rstrip("/").removesuffix(root_path) + root_path + path


#: Declared with the collections' canonical ids (``admin_areas`` and other spellings are also accepted).
_Collection = Annotated[str, Path(json_schema_extra={"enum": list(COLLECTIONS)})]
_Text = Annotated[str | None, Query(description="Output format: json (the one encoding served)")]
#: Parsed by ``parse_items_query`` (OGC exceptions, not FastAPI's 422), declared as the standard does.
_Hidden = Annotated[str | None, Query(include_in_schema=False)]
ITEMS_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "bbox",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": "minx,miny,maxx,maxy in CRS84 longitude/latitude (or six numbers with heights)",
        "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
    {
        "name": "offset",
        "in": "query",
        "required": False,
        "description": "How many matching features to skip (the next link carries it)",
        "schema": {"type": "integer", "minimum": 0, "default": 0},
    },
    {
        "name": "datetime",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": "An RFC 3339 date or date-time, or an interval with '/' and '..' for an open end",
        "schema": {"type": "string"},
    },
]
_GEOJSON_OK: dict[int | str, dict[str, Any]] = {200: {"description": "GeoJSON", "content": {docs.GEOJSON: {}}}}
_SCHEMA_OK: dict[int | str, dict[str, Any]] = {
    200: {"description": "JSON Schema of the properties", "content": {docs.SCHEMA_JSON: {}}}
}
#: What every OGC route may answer besides its document (bad parameters and unknown ids are OGC exceptions).
OGC_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OgcExceptionOut, "description": "A query parameter that is unknown, repeated or invalid"},
    401: {"model": ErrorOut, "description": "Not signed in"},
    403: {"model": ErrorOut, "description": "The role does not allow this"},
    404: {"model": OgcExceptionOut, "description": "No such collection or feature"},
}


def ogc_router(auth: Callable[..., Principal]) -> APIRouter:
    """The OGC API Features routes; every one needs ``auth`` (the app passes ``require(Role.VIEWER)``)."""
    router = APIRouter(dependencies=[Depends(auth)], tags=["OGC API Features"], responses=OGC_ERRORS)

    @router.get("/", name="ogc_landing", operation_id="ogc_landing", summary="OGC API landing page")
    def landing(request: Request, f: _Text = None) -> JSONResponse:
        try:
            check_only(request.query_params.multi_items())
            return JSONResponse(docs.landing_page(_root(request), _openapi_url(request)))
        except LandreleaseError as error:
            return _error(error)

    @router.get("", include_in_schema=False)
    def landing_without_slash(request: Request) -> JSONResponse:
        return landing(request)

    @router.get(
        "/conformance",
        name="ogc_conformance",
        operation_id="ogc_conformance",
        summary="Conformance classes implemented",
    )
    def conformance(request: Request, f: _Text = None) -> JSONResponse:
        try:
            check_only(request.query_params.multi_items())
            return JSONResponse(docs.conformance())
        except LandreleaseError as error:
            return _error(error)

    @router.get(
        "/collections", name="ogc_collections", operation_id="ogc_collections", summary="The collections (layers)"
    )
    def collections(request: Request, f: _Text = None) -> JSONResponse:
        try:
            check_only(request.query_params.multi_items())
            root, store = _root(request), _store(request)
            documents = [collection_document(store, root, layer) for layer in COLLECTIONS.values()]
            return JSONResponse(docs.collections(root, documents))
        except LandreleaseError as error:
            return _error(error)

    @router.get(
        "/collections/{collection_id}", name="ogc_collection", operation_id="ogc_collection", summary="One collection"
    )
    def collection(request: Request, collection_id: _Collection, f: _Text = None) -> JSONResponse:
        try:
            check_only(request.query_params.multi_items())
            layer = collection_layer(collection_id)
            return JSONResponse(collection_document(_store(request), _root(request), layer))
        except LandreleaseError as error:
            return _error(error)

    @router.get(
        "/collections/{collection_id}/queryables",
        name="ogc_queryables",
        operation_id="ogc_queryables",
        responses=_SCHEMA_OK,
        summary="Filterable properties",
    )
    def queryables(request: Request, collection_id: _Collection, f: _Text = None) -> JSONResponse:
        try:
            check_only(request.query_params.multi_items())
            layer = collection_layer(collection_id)
            return JSONResponse(docs.queryables(_root(request), layer), media_type=docs.SCHEMA_JSON)
        except LandreleaseError as error:
            return _error(error)

    @router.get(
        "/collections/{collection_id}/items",
        name="ogc_items",
        operation_id="ogc_items",
        responses=_GEOJSON_OK,
        openapi_extra={"parameters": ITEMS_PARAMETERS},
        summary="Features of a collection",
        description="Filters: bbox (CRS84 minx,miny,maxx,maxy), datetime (instant or interval with ..), "
        "and equality on any property (e.g. status=active). Unknown parameters are refused with 400.",
    )
    def items(
        request: Request,
        collection_id: _Collection,
        bbox: _Hidden = None,
        limit: _Hidden = None,
        offset: _Hidden = None,
        datetime: _Hidden = None,
        f: _Text = None,
    ) -> JSONResponse:
        try:
            layer = collection_layer(collection_id)
            parameters = request.query_params.multi_items()
            query = parse_items_query(layer, parameters)
            page = select(_store(request), layer, query)
            kept = {k: v for k, v in parameters if k not in ("limit", "offset")}
            document = docs.feature_collection(
                _root(request),
                layer,
                page.records,
                matched=page.matched,
                offset=query.offset,
                limit=query.limit,
                parameters=kept,
            )
            return JSONResponse(document, media_type=docs.GEOJSON)
        except LandreleaseError as error:
            return _error(error)

    @router.get(
        "/collections/{collection_id}/items/{feature_id}",
        name="ogc_feature",
        operation_id="ogc_feature",
        responses=_GEOJSON_OK,
        summary="One feature",
    )
    def feature(request: Request, collection_id: _Collection, feature_id: str, f: _Text = None) -> JSONResponse:
        try:
            check_only(request.query_params.multi_items())
            layer = collection_layer(collection_id)
            try:
                record = _store(request).get(feature_id)
            except NotFound:
                record = None
            if record is None or record.layer != layer.name:
                raise NotFound(f"no feature {feature_id!r} in {collection_id}")
            return JSONResponse(docs.feature(_root(request), layer, record), media_type=docs.GEOJSON)
        except LandreleaseError as error:
            return _error(error)

    return router
