"""Exporting a layer to the formats the field uses. Victims' personal data stays out unless asked for."""

from __future__ import annotations

from pathlib import Path

from landrelease.domain.schema import layer_named
from landrelease.errors import InvalidInput
from landrelease.formats.write import write_layer
from landrelease.store.protocol import Store


def export_layer(
    store: Store, layer_name: str, path: Path, *, overwrite: bool = False, include_personal: bool = False
) -> int:
    """Write every current feature of the layer to ``path``; return how many."""
    layer = layer_named(layer_name)
    if layer.personal and not include_personal:
        raise InvalidInput(
            f"{layer.name} holds personal data; export it only with --include-personal, and keep the file safe"
        )
    names = [f.name for f in layer.fields if include_personal or not f.personal]
    ids, geoms, columns = store.columns(layer.name, names, geometry=layer.geometry.value != "NONE")
    write_layer(path, layer, ids, geoms, columns, overwrite=overwrite, include_personal=include_personal)
    return len(ids)
