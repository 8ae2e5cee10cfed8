"""Typed errors. Each carries a one-line message in the user's terms and the HTTP status it maps to.

Adapters (CLI, HTTP) print ``str(error)`` and never a traceback.
"""

from __future__ import annotations


class LandreleaseError(Exception):
    """Base of every error a user may see."""

    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(LandreleaseError):
    """Input that cannot be accepted as given (a value, a choice, a field mapping)."""


class UnreadableFile(LandreleaseError):
    """A file that cannot be read at all: nothing was imported."""

    http_status = 422


class UnsafeFile(UnreadableFile):
    """A file refused for safety: XML entities, zip members escaping their folder, size bombs."""


class IllegalTransition(LandreleaseError):
    """A status change the workflow does not allow."""

    http_status = 409


class Conflict(LandreleaseError):
    """A change based on a version of a record that is no longer current (someone else changed it)."""

    http_status = 409


class NotFound(LandreleaseError):
    """A record, layer or database that does not exist."""

    http_status = 404


class StoreError(LandreleaseError):
    """The database cannot be opened, is not a landrelease database, or is of an unknown version."""

    http_status = 500


class StoreUnavailable(StoreError):
    """The database server cannot be reached: down, refusing connections, or the connection broke. A read
    replica that is unavailable is bypassed (reads go to the primary); anything else reports it."""

    http_status = 503


class ImportAborted(LandreleaseError):
    """``--all-or-nothing`` import refused because some features were rejected; nothing was written."""

    http_status = 422
    #: The import summary (what would have been rejected), set by the importer.
    summary: object = None
