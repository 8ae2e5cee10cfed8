"""Passwords and tokens, never stored as given.

Passwords: scrypt (memory-hard, in the standard library) with a per-user salt, so a copied database file
does not give them away cheaply. Tokens and session ids: 256 random bits, stored as SHA-256 digests (they
are already unguessable, so a fast hash is enough and keeps every request cheap).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SCHEME = "scrypt"


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (hex), self-describing so the cost can be raised later."""
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; takes as long when there is no stored hash (no user enumeration)."""
    if stored is None:
        _scrypt(password, b"no such user....", SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != _SCHEME:
            return False
        candidate = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
        return hmac.compare_digest(candidate, bytes.fromhex(key))
    except ValueError:
        return False


def new_secret() -> str:
    """A fresh API token or session id."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """How a token or session id is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)
