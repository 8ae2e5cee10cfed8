"""Two servers approving the same report at once write one record, on every backend.

Each "server" is a store and accounts of its own; the in-process approval lock is taken out of the way
(``review._APPROVING``), as it would be between processes, so only the submission store's hold can help.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from landrelease.accounts import Accounts
from landrelease.actions import review
from landrelease.errors import Conflict
from landrelease.store import Store, open_store

from .conftest import Backend
from .test_contract import together

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[37.0, 49.0], [37.01, 49.0], [37.01, 49.01], [37.0, 49.01], [37.0, 49.0]]],
}
ROUNDS = 4


def test_two_servers_approving_at_once_write_one_record(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review, "_APPROVING", contextlib.nullcontext())
    servers: list[tuple[Store, Accounts]] = [(open_store(backend.location), backend.open()) for _ in range(2)]
    try:
        store, accounts = servers[0]
        for i in range(ROUNDS):
            report = review.submit(
                store,
                accounts,
                layer_name="hazards",
                attributes={"hazard_class": "SHA", "name": f"Reported field {i}"},
                geometry=SQUARE,
                author="olena",
                organisation="Org A",
            )

            def approve(n: int, report_id: str = report.id) -> Any:
                server_store, server_accounts = servers[n]
                return review.approve(
                    server_store, server_accounts, report_id, f"reviewer{n}", review.Reconcile("new"), "checked"
                )

            results = together(2, approve)
            won = [r for r in results if not isinstance(r, BaseException)]
            assert len(won) == 1, results
            lost = next(r for r in results if isinstance(r, BaseException))
            # Told at once (held), or after the winner finished (already approved): never a second record.
            assert isinstance(lost, Conflict) or "already approved" in str(lost), lost
            made = [f for f in store.features("hazards") if f.attributes["source_ref"] == report.id]
            assert [f.id for f in made] == [won[0].record_id], made
        assert store.count("hazards") == ROUNDS
    finally:
        for server_store, server_accounts in servers:
            server_accounts.close()
            server_store.close()
