"""Distances on the ground, in metres, between hazards and the points around them (settlements, accidents...).

Method: hazards are grouped into zones of ``ZONE_DEGREES`` by the centre of their bounding box; each zone is
projected, with the points it is measured against, to an azimuthal equidistant projection centred on the
zone's hazards (``Equidistant``: on the sphere of the WGS84 ellipsoid's Gaussian radius at the centre,
stretched to the ellipsoid's scale there). Candidates are then found and measured in those metres with
shapely's STRtree (``query_nearest`` with a ``max_distance``, and ``dwithin``), so each hazard is measured
from its edge (0 inside it), not from a centroid. Against geodesics on the ellipsoid (``pyproj.Geod``),
distances of 300 m to 9 km in every direction anywhere in a zone are within 0.25 % (equator to 70 degrees).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

Geometries = npt.NDArray[np.object_]
Floats = npt.NDArray[np.float64]
Indexes = npt.NDArray[np.intp]

#: Zone size in degrees: the largest distance from a zone's centre stays under about 800 km.
ZONE_DEGREES = 10.0
#: The fewest metres in a degree of latitude (at the equator) and of longitude at the equator (WGS84).
METRES_PER_DEGREE_LATITUDE = 110_574.0
METRES_PER_DEGREE_EQUATOR = 111_320.0
WGS84_A = 6_378_137.0
WGS84_E2 = 0.0066943799901413165


@dataclass(frozen=True)
class Equidistant:
    """Azimuthal equidistant projection about (lon0, lat0), on the sphere of the ellipsoid's Gaussian radius
    there, stretched so that its scale at the centre is the ellipsoid's (M north-south, N east-west).

    Plain numpy: PROJ's ellipsoidal ``aeqd`` solves a geodesic per vertex and was most of the run time. Against
    geodesics (``pyproj.Geod``) the error of a distance of a few km is under 0.3 % anywhere in a zone
    (tests/analysis/test_prioritisation.py measures it).
    """

    lon0: float
    lat0: float
    radius: float
    stretch_x: float
    stretch_y: float

    @classmethod
    def at(cls, lon0: float, lat0: float) -> Equidistant:
        s2 = math.sin(math.radians(lat0)) ** 2
        m = WGS84_A * (1 - WGS84_E2) / (1 - WGS84_E2 * s2) ** 1.5  # meridional radius of curvature
        n = WGS84_A / math.sqrt(1 - WGS84_E2 * s2)  # prime vertical radius of curvature
        radius = math.sqrt(m * n)
        return cls(lon0, lat0, radius, n / radius, m / radius)

    def xy(self, lonlat: Floats) -> Floats:
        """Longitude/latitude rows in metres."""
        lam = np.radians(lonlat[:, 0] - self.lon0)
        phi = np.radians(lonlat[:, 1])
        phi0 = math.radians(self.lat0)
        sin_phi, cos_phi, cos_lam = np.sin(phi), np.cos(phi), np.cos(lam)
        cos_c = np.clip(math.sin(phi0) * sin_phi + math.cos(phi0) * cos_phi * cos_lam, -1.0, 1.0)
        c = np.arccos(cos_c)
        k = np.where(c > 1e-12, c / np.sin(np.maximum(c, 1e-12)), 1.0)
        x = self.radius * self.stretch_x * k * cos_phi * np.sin(lam)
        y = self.radius * self.stretch_y * k * (math.cos(phi0) * sin_phi - math.sin(phi0) * cos_phi * cos_lam)
        return np.column_stack((x, y))


@dataclass(frozen=True)
class Zone:
    """Some hazards (indexes into the whole array), projected to the zone's own equidistant projection."""

    hazards: Indexes
    hazards_m: Geometries
    #: The hazards' extent in longitude/latitude (min x, min y, max x, max y).
    bounds: tuple[float, float, float, float]
    projection: Equidistant
    #: The projected hazards' tree: points are looked up in it (there are fewer points near hazards than
    #: hazards, and a query costs per geometry queried).
    tree: shapely.STRtree

    def project(self, geometries: Geometries) -> Geometries:
        """``geometries`` (longitude/latitude; None allowed) in this zone's metres."""
        return np.asarray(shapely.transform(geometries, self.projection.xy), dtype=object)

    def points_near(self, points: Points, margin_m: float) -> tuple[Indexes, Geometries]:
        """The points within about ``margin_m`` of the zone's extent: their indexes in ``points`` and their
        geometries in the zone's metres. Only these can be that close to one of the zone's hazards."""
        minx, miny, maxx, maxy = self.bounds
        dlat = margin_m / METRES_PER_DEGREE_LATITUDE * 1.01
        widest = math.cos(math.radians(min(max(abs(miny), abs(maxy)) + dlat, 89.9)))
        dlon = margin_m / (METRES_PER_DEGREE_EQUATOR * widest) * 1.01
        x, y = points.xy[:, 0], points.xy[:, 1]
        near = (x >= minx - dlon) & (x <= maxx + dlon) & (y >= miny - dlat) & (y <= maxy + dlat)
        chosen = points.indexes[near]
        return chosen, np.asarray(shapely.points(self.projection.xy(points.xy[near])), dtype=object)


@dataclass(frozen=True)
class Points:
    """Located points as coordinates (for cheap selection by zone), with their indexes in the source array."""

    indexes: Indexes
    xy: Floats

    @classmethod
    def of(cls, geometries: Geometries, subset: Indexes | None = None) -> Points:
        indexes = located(geometries) if subset is None else subset[located(geometries[subset])]
        xy = shapely.get_coordinates(geometries[indexes]) if indexes.size else np.empty((0, 2))
        if len(xy) != len(indexes):
            raise ValueError("Points.of takes single points only")
        return cls(indexes, xy)


def zones(hazards: Geometries, wanted: npt.NDArray[np.bool_] | None = None) -> list[Zone]:
    """The zones of ``hazards`` (longitude/latitude; only the ``wanted`` ones), each projected once."""
    present = ~shapely.is_missing(hazards) & ~shapely.is_empty(hazards)
    chosen = np.flatnonzero(present if wanted is None else present & wanted)
    if not chosen.size:
        return []
    bounds = shapely.bounds(hazards[chosen])
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2
    keys = np.floor(cx / ZONE_DEGREES) * 1000 + np.floor(cy / ZONE_DEGREES)
    _, zone_of = np.unique(keys, return_inverse=True)
    found = []
    for z in range(int(zone_of.max()) + 1):
        members = np.flatnonzero(zone_of == z)
        lon = float((cx[members].min() + cx[members].max()) / 2)
        lat = float((cy[members].min() + cy[members].max()) / 2)
        projection = Equidistant.at(lon, lat)
        extent = (
            float(bounds[members, 0].min()),
            float(bounds[members, 1].min()),
            float(bounds[members, 2].max()),
            float(bounds[members, 3].max()),
        )
        projected = np.asarray(shapely.transform(hazards[chosen[members]], projection.xy), dtype=object)
        found.append(Zone(chosen[members], projected, extent, projection, shapely.STRtree(projected)))
    return found


def located(points: Geometries) -> Indexes:
    """Indexes of the points that have a location."""
    return np.flatnonzero(~shapely.is_missing(points) & ~shapely.is_empty(points))


def within(zone: Zone, points_m: Geometries, radius_m: float) -> tuple[Indexes, Indexes]:
    """Every (hazard, point) pair no more than ``radius_m`` apart: positions in ``zone.hazards_m`` and in
    ``points_m`` (points in the zone's metres)."""
    if not len(points_m):
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    p, h = zone.tree.query(points_m, predicate="dwithin", distance=radius_m)
    return h.astype(np.intp), p.astype(np.intp)


def nearest(zone: Zone, points_m: Geometries, reach_m: float) -> tuple[Floats, Indexes]:
    """For each of the zone's hazards, the distance in metres to the nearest point within ``reach_m`` and
    that point's position in ``points_m`` (``inf`` and -1 where none is that close)."""
    distance = np.full(len(zone.hazards), np.inf)
    which = np.full(len(zone.hazards), -1, dtype=np.intp)
    h, p = within(zone, points_m, reach_m)
    if h.size:
        d = shapely.distance(zone.hazards_m[h], points_m[p])
        order = np.lexsort((d, h))
        h, p, d = h[order], p[order], d[order]
        first = np.r_[True, h[1:] != h[:-1]]
        distance[h[first]] = d[first]
        which[h[first]] = p[first]
    return distance, which
