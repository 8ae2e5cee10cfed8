"""Edits made outside landrelease (QGIS, GDAL, psql, sqlite3) get history too, on both stores.

Information managers edit the national database in QGIS. Database triggers on every layer table (made from
``domain/schema.py``: ``store/geopackage/outside_edits.py`` and ``store/postgis/outside_edits.py``) turn such
an edit into a version, exactly as landrelease writes one:

- an UPDATE that changes a writable field or the geometry but not ``version`` bumps ``version`` and writes
  an ``update`` version (landrelease always bumps ``version`` itself; derived fields are not versioned);
- a DELETE not preceded by landrelease's own ``retire`` version writes a ``retire`` version;
- an INSERT of a row with ``version`` 0 (the column default: landrelease and ``load`` always write 1 or more)
  gets version 1 and a ``create`` version, and the next id when it has none.

Their author and reasons are these, on both stores. The one edit not versioned is one that also changes
``version`` itself (it is taken for landrelease's own), as a row added with a version of its own is.
"""

from __future__ import annotations

from landrelease.domain.records import Action

#: The author of versions written for other programs' edits (also the ``updated_by`` column's default).
AUTHOR = "outside landrelease"

#: Why, per action.
REASONS: dict[Action, str] = {
    Action.CREATE: "added in another program (QGIS, GDAL or SQL), not through landrelease",
    Action.UPDATE: "edited in another program (QGIS, GDAL or SQL), not through landrelease",
    Action.RETIRE: "deleted in another program (QGIS, GDAL or SQL), not through landrelease",
}


def bad_id_message(layer: str, prefix: str) -> str:
    """What another program is told when it adds a row whose id is not one of this layer's ids."""
    return f"{layer}: ids look like {prefix}-000001; leave the id empty and the next one is given"


def reused_id_message(layer: str) -> str:
    """What another program is told when it adds a row under an id that was used before."""
    return f"{layer}: that id was used before and ids are never reused; leave the id empty and the next one is given"


def id_change_message(layer: str) -> str:
    """What another program is told when it changes a record's id."""
    return f"{layer}: a record's id never changes (its history is kept under it)"


def version_back_message(layer: str) -> str:
    """What another program is told when it writes a record's version lower than it is."""
    return f"{layer}: a record's version counts its versions and never goes back; leave it as it is"
