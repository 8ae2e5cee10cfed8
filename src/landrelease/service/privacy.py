"""Victims' personal data: shown to reviewers and admins only, and every showing is logged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from landrelease.accounts.protocol import AccountStore
from landrelease.domain.records import Scalar
from landrelease.domain.schema import Layer
from landrelease.service.context import Principal


def visible(layer: Layer, attributes: Mapping[str, Scalar], principal: Principal) -> dict[str, Scalar]:
    """The attributes ``principal`` may see: personal fields are left out unless they may see personal data."""
    if principal.sees_personal_data:
        return dict(attributes)
    personal = {f.name for f in layer.fields if f.personal}
    return {k: v for k, v in attributes.items() if k not in personal}


def shows_personal_data(layer: Layer, principal: Principal) -> bool:
    return principal.sees_personal_data and any(f.personal for f in layer.fields)


def log_if_shown(
    accounts: AccountStore, layer: Layer, principal: Principal, record_ids: Sequence[str], purpose: str
) -> None:
    """Write an access log row per record whose personal data this response shows."""
    if shows_personal_data(layer, principal):
        accounts.log_access(principal.name, record_ids, purpose)
