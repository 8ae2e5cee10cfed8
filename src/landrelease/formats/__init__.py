"""Reading and writing the files the field uses: GeoPackage, GeoJSON, KML/KMZ, Shapefile (plain or
zipped), CSV, FlatGeobuf and Excel, safely.

``read_features`` gives every feature of a file in WGS84 with a reason for each geometry it could
not parse; hostile files (XML entities, zip slip, zip bombs, GDAL virtual datasets) are refused
with ``UnsafeFile`` before GDAL opens them. ``write_layer`` exports one layer's records, atomically.
"""

from landrelease.formats.drivers import FORMATS, READABLE, WRITABLE, Format
from landrelease.formats.read import RawFeature, ReadResult, read_features
from landrelease.formats.safety import Limits
from landrelease.formats.write import Written, write_layer

__all__ = [
    "FORMATS",
    "READABLE",
    "WRITABLE",
    "Format",
    "Limits",
    "RawFeature",
    "ReadResult",
    "Written",
    "read_features",
    "write_layer",
]
