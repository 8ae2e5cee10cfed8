"""Geometry on the WGS84 ellipsoid: geodesic area, validation and repair, coordinate sanity."""
