"""What an app holds open for its whole life: the national record and the accounts, opened once.

Both are thread-safe (each serialises its calls on its own connection); routes run in a thread pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from landrelease.accounts import Accounts
from landrelease.store.protocol import Store


@dataclass(frozen=True)
class Resources:
    store: Store
    accounts: Accounts

    def close(self) -> None:
        self.accounts.close()
        self.store.close()


def resources(request: Request) -> Resources:
    found = request.app.state.landrelease
    assert isinstance(found, Resources)
    return found
