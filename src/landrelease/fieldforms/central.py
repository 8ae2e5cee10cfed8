"""Pulling a form's submissions from an ODK Central server with pyodk (the ``central`` extra).

pyodk logs in (``POST /v1/sessions``) and reads the form's OData table with its repeats expanded
(``GET /v1/projects/{project}/forms/{form}.svc/Submissions?$expand=*``): the same document as Central's
OData JSON export, read by ``fieldforms.submissions``. Credentials come from the environment
(``LANDRELEASE_CENTRAL_USERNAME`` and ``LANDRELEASE_CENTRAL_PASSWORD``) or else from pyodk's own config
file (``PYODK_CONFIG_FILE``, default ``~/.pyodk_config.toml``) when it names the same server. They are
never printed, and the session token stays in a private temporary folder, gone after the pull.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from landrelease.errors import InvalidInput, UnreadableFile
from landrelease.fieldforms.submissions import Instance, read_document

USERNAME_VARIABLE, PASSWORD_VARIABLE = "LANDRELEASE_CENTRAL_USERNAME", "LANDRELEASE_CENTRAL_PASSWORD"


@dataclass(frozen=True)
class CentralForm:
    """Where a form lives on a Central server."""

    url: str
    project: int
    form_id: str

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(
                f"--from-central needs the server's address, like https://central.example.org, not {self.url!r}"
            )
        if parts.username or parts.password:
            raise InvalidInput(
                "put the Central user name and password in the environment or the pyodk config, not the URL"
            )
        if self.project < 1:
            raise InvalidInput(f"--project must be a Central project number (1 or more), not {self.project}")
        if not self.form_id.strip():
            raise InvalidInput("--form-id needs the form's id on Central (its xmlFormId)")

    @property
    def server(self) -> str:
        """The server's address without any ``/v1`` path, as pyodk wants it."""
        base = self.url.rstrip("/")
        return base.removesuffix("/v1")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)


def _same_server(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def credentials_for(form: CentralForm, env: Mapping[str, str] | None = None) -> Credentials:
    """The user name and password for ``form``'s server; see the module docstring for where they come from."""
    env = os.environ if env is None else env
    username, password = env.get(USERNAME_VARIABLE, ""), env.get(PASSWORD_VARIABLE, "")
    if username and password:
        return Credentials(username, password)
    config = Path(env.get("PYODK_CONFIG_FILE") or Path.home() / ".pyodk_config.toml")
    hint = f"set {USERNAME_VARIABLE} and {PASSWORD_VARIABLE}, or write them in the pyodk config {config}"
    if not config.is_file():
        raise InvalidInput(f"no credentials for {form.server}: {hint}")
    try:
        central = tomllib.loads(config.read_text(encoding="utf-8")).get("central", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(f"the pyodk config {config} cannot be read ({type(error).__name__})") from None
    if not isinstance(central, dict) or not all(
        isinstance(central.get(k), str) for k in ("base_url", "username", "password")
    ):
        raise InvalidInput(f"the pyodk config {config} needs a [central] table with base_url, username and password")
    if not _same_server(central["base_url"], form.server):
        raise InvalidInput(f"the pyodk config {config} is for {central['base_url']}, not {form.server}: {hint}")
    return Credentials(central["username"], central["password"])


def pull_submissions(form: CentralForm, credentials: Credentials, repeats: list[str]) -> list[Instance]:
    """Every submission of ``form`` on its Central server, read as an OData export is."""
    document = _pull_document(form, credentials)
    return read_document(json.dumps(document).encode(), repeats, f"{form.form_id} on {form.server}")


def _pull_document(form: CentralForm, credentials: Credentials) -> Any:
    try:
        from pyodk import Client
        from pyodk.errors import PyODKError
    except ImportError:
        raise InvalidInput("pulling from ODK Central needs pyodk: pip install 'landrelease[central]'") from None
    import requests

    with tempfile.TemporaryDirectory(prefix="landrelease-central-") as private:
        # pyodk reads credentials from a config file and caches its token in another: both stay in here (0700).
        config = Path(private) / "pyodk_config.toml"
        config.touch(mode=0o600)
        config.write_text(
            "[central]\n"
            f"base_url = {json.dumps(form.server)}\n"
            f"username = {json.dumps(credentials.username)}\n"
            f"password = {json.dumps(credentials.password)}\n",
            encoding="utf-8",
        )
        where = f"{form.server} (project {form.project}, form {form.form_id})"
        # pyodk logs each failure (even the expected missing token cache) with a traceback and the server's
        # answer: the user gets our one line instead.
        log = logging.getLogger("pyodk")
        was_disabled, log.disabled = log.disabled, True
        try:
            with Client(config_path=config, cache_path=Path(private) / "pyodk_cache.toml") as client:
                return client.submissions.get_table(form_id=form.form_id, project_id=form.project, expand="*")
        except PyODKError as error:
            raise InvalidInput(f"ODK Central refused: {where}: {_refusal(error)}") from None
        except requests.exceptions.JSONDecodeError:
            raise UnreadableFile(
                f"{where} did not answer with an OData document: is it an ODK Central server?"
            ) from None
        except requests.RequestException as error:
            raise UnreadableFile(f"cannot reach ODK Central at {form.server} ({type(error).__name__})") from None
        finally:
            log.disabled = was_disabled


def _refusal(error: Exception) -> str:
    """Central's own message (its problem JSON), without anything we sent."""
    response = error.args[1] if len(error.args) >= 2 else None
    status = getattr(response, "status_code", None)
    known = {401: "wrong user name or password", 403: "this user may not read the form's submissions"}
    if status in known:
        return f"{known[status]} (HTTP {status})"
    try:
        message = str(response.json().get("message", "")) if response is not None else ""
    except ValueError:
        message = ""
    if status == 404:
        return f"no such project or form (HTTP 404){': ' + message if message else ''}"
    text = str(error.args[0]) if error.args else type(error).__name__
    return (message or text.split(" content:", 1)[0]).strip()
