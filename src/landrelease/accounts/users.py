"""Creating users and signing them in: what the CLI and the HTTP service share."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from landrelease.accounts.credentials import digest, hash_password, new_secret, verify_password
from landrelease.accounts.protocol import AccountStore, User
from landrelease.domain.roles import Role
from landrelease.errors import InvalidInput

#: Names people type: letters (any script), digits, dot, dash, underscore, @.
_NAME = re.compile(r"^[\w.@-]{1,64}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
SESSION_HOURS = 12


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InvalidInput(f"--role takes {', '.join(r.value for r in Role)}, not {value!r}") from None


def create_user(
    accounts: AccountStore, name: str, role: Role, organisation: str | None = None, password: str | None = None
) -> tuple[User, str]:
    """A new user and their API token (shown once: only its hash is kept)."""
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput(f"{name!r} is not a user name: use 1-64 letters, digits, '.', '-', '_' or '@'")
    organisation = (organisation or "").strip() or None
    if role is Role.OPERATOR and organisation is None:
        raise InvalidInput("an operator works for an organisation: give --org (it bounds what they see)")
    if password is not None and not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    user = accounts.add_user(name, role, organisation, hash_password(password) if password is not None else None)
    token = new_secret()
    accounts.add_token(name, digest(token), "created with the user")
    return user, token


def authenticate(accounts: AccountStore, name: str, password: str) -> User | None:
    """The user if ``password`` is theirs, else None (the same answer, and time, for an unknown name)."""
    if len(password) > MAX_PASSWORD:
        return None
    if not verify_password(password, accounts.password_hash(name)):
        return None
    return accounts.user(name)


def open_session(accounts: AccountStore, user: User) -> tuple[str, int]:
    """A new session id for ``user`` and how many seconds it lasts."""
    session = new_secret()
    lifetime = timedelta(hours=SESSION_HOURS)
    accounts.add_session(digest(session), user.name, datetime.now(UTC) + lifetime)
    return session, int(lifetime.total_seconds())


def user_of_token(accounts: AccountStore, token: str) -> User | None:
    return accounts.user_by_token(digest(token)) if token else None


def user_of_session(accounts: AccountStore, session: str) -> User | None:
    return accounts.user_by_session(digest(session), datetime.now(UTC)) if session else None


def close_session(accounts: AccountStore, session: str) -> None:
    accounts.end_session(digest(session))
