"""``import submissions --from-central``: pyodk against a recorded ODK Central served on loopback by the test.

The server answers the two endpoints pyodk calls, in Central's documented layout: ``POST /v1/sessions``
(``{"createdAt", "expiresAt", "token"}``, or a 401 problem) and the OData table
``GET /v1/projects/{p}/forms/{f}.svc/Submissions`` (``{"@odata.context", "value": [...]}``, repeats
expanded with ``$expand=*``). No internet.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from landrelease.cli import app
from landrelease.errors import InvalidInput
from landrelease.fieldforms.central import CentralForm, credentials_for
from landrelease.fieldforms.kinds import KINDS
from tests.fieldforms.exports import Answers, central_odata
from tests.fieldforms.test_ingest import ANSWERS

KIND = KINDS["clearance"]
USER, PASSWORD, TOKEN = (
    "im.officer@mine-action.example",
    "s3cret pass «Київ»",
    "lSpAIeksRu1CNZs7!qjAot2T17dPzkrw9B4iTtpj7OoIJBmXvnHM8z8Ka4QPEjR",
)
PROBLEM_401 = {"code": 401.2, "message": "Could not authenticate with the provided credentials."}
PROBLEM_404 = {"code": 404.1, "message": "Could not find the resource you were looking for."}


@dataclass
class Central:
    """What the recorded server holds and saw."""

    url: str
    project: int = 3
    submissions: list[Answers] = field(default_factory=lambda: [ANSWERS["clearance"]])
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


def _handler(central: Central) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            central.requests.append(("POST", self.path, body))
            if self.path != "/v1/sessions":
                self._send(404, PROBLEM_404)
            elif body == {"email": USER, "password": PASSWORD}:
                self._send(
                    200,
                    {"createdAt": "2025-06-01T08:00:00.000Z", "expiresAt": "2025-06-02T08:00:00.000Z", "token": TOKEN},
                )
            else:
                self._send(401, PROBLEM_401)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            central.requests.append(("GET", self.path, {"authorization": self.headers.get("Authorization")}))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"code": 401.2, "message": "Could not authenticate with the provided credentials."})
            elif parts.path == f"/v1/projects/{central.project}/forms/{KIND.form_id}.svc/Submissions":
                document = json.loads(central_odata(KIND, central.submissions))
                document["@odata.context"] = (
                    f"{central.url}/v1/projects/{central.project}/forms/{KIND.form_id}.svc/$metadata#Submissions"
                )
                self._send(200, document)
            elif parts.path == "/v1/projects/3/forms/not_json.svc/Submissions":
                data = b"<html>a proxy's login page</html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            else:
                self._send(404, PROBLEM_404)

    return Handler


@pytest.fixture
def central(monkeypatch: pytest.MonkeyPatch) -> Iterator[Central]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    recorded = Central(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(recorded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # loopback, whatever proxy the machine has
    monkeypatch.setenv("LANDRELEASE_CENTRAL_USERNAME", USER)
    monkeypatch.setenv("LANDRELEASE_CENTRAL_PASSWORD", PASSWORD)
    monkeypatch.setenv("PYODK_CONFIG_FILE", "/nonexistent/pyodk_config.toml")
    monkeypatch.setenv("HOME", "/nonexistent")  # nothing written to (or read from) the real home
    yield recorded
    server.shutdown()
    server.server_close()


@pytest.fixture
def db(tmp_path: Path) -> str:
    from landrelease.domain.records import Change, NewFeature
    from landrelease.store import open_store
    from tests.fieldforms.test_ingest import HAZARD

    location = str(tmp_path / "programme.gpkg")
    with open_store(location, create=True) as store:
        store.add("hazards", [NewFeature({"hazard_class": "SHA", "status": "active"}, HAZARD)], Change("anna", "setup"))
    return location


def pull(db: str, url: str, *extra: str, form_id: str = KIND.form_id) -> Any:
    args = ["--db", db, "import", "submissions", "--form", "clearance", "--from-central", url]
    return CliRunner().invoke(app, [*args, "--project", "3", "--form-id", form_id, *extra])


def test_pulled_submissions_go_into_the_review_queue_once(central: Central, db: str) -> None:
    bad = Answers("uuid:bad-1", {**ANSWERS["clearance"].values, "activity/end_date": "2031-01-01"})
    central.submissions.append(bad)
    run = pull(db, central.url, "--json")
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout)
    assert (summary["imported"], summary["rejected"], summary["duplicates"]) == (1, 1, 0)
    assert summary["file"] == f"{central.url} project 3 form {KIND.form_id}"
    assert summary["errors"][0]["reason"] == "activity: end_date 2031-01-01 is in the future"
    assert len(summary["reports"]) == 4  # the activity, its cleared polygon and its two finds

    again = pull(db, central.url)
    assert again.exit_code == 0, again.output
    assert "0 submissions into the review queue (0 reports), 1 kept for correction, 1 duplicates" in again.stderr

    logins = [r for r in central.requests if r[0] == "POST"]
    tables = [r for r in central.requests if r[0] == "GET"]
    assert [r[1] for r in logins] == ["/v1/sessions", "/v1/sessions"]  # no token kept between pulls
    assert all(parse_qs(urlsplit(r[1]).query) == {"$expand": ["*"]} for r in tables) and len(tables) == 2
    for text in (run.output, again.output):
        assert PASSWORD not in text and TOKEN not in text

    corrections = CliRunner().invoke(app, ["--db", db, "submissions", "corrections", "--json"])
    assert corrections.exit_code == 0, corrections.output
    listed = json.loads(corrections.stdout)
    assert listed["count"] == 1 and listed["submissions"][0]["instance_id"] == "uuid:bad-1"


def test_wrong_password_unknown_form_and_not_central_say_so(
    central: Central, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = pull(db, central.url, form_id="no_such_form")
    assert missing.exit_code != 0
    assert (
        f"ODK Central refused: {central.url} (project 3, form no_such_form): no such project or form" in missing.stderr
    )
    html = pull(db, central.url, form_id="not_json")
    assert html.exit_code != 0 and "did not answer with an OData document" in html.stderr

    monkeypatch.setenv("LANDRELEASE_CENTRAL_PASSWORD", "guess")
    refused = pull(db, central.url)
    assert refused.exit_code != 0
    assert "wrong user name or password (HTTP 401)" in refused.stderr and "guess" not in refused.output
    assert "Traceback" not in refused.output
    listed = CliRunner().invoke(app, ["--db", db, "submissions", "corrections"])
    assert "no submissions waiting for correction" in listed.stderr


def test_an_unreachable_server(db: str, central: Central) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = pull(db, f"http://127.0.0.1:{port}")
    assert run.exit_code != 0 and f"cannot reach ODK Central at http://127.0.0.1:{port}" in run.stderr


def test_credentials_from_the_pyodk_config_only_for_its_own_server(
    central: Central, db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANDRELEASE_CENTRAL_USERNAME")
    monkeypatch.delenv("LANDRELEASE_CENTRAL_PASSWORD")
    config = tmp_path / "pyodk_config.toml"
    monkeypatch.setenv("PYODK_CONFIG_FILE", str(config))
    nothing = pull(db, central.url)
    assert "no credentials for" in nothing.stderr and "LANDRELEASE_CENTRAL_USERNAME" in nothing.stderr

    config.write_text(f'[central]\nbase_url = "{central.url}/"\nusername = "{USER}"\npassword = "{PASSWORD}"\n')
    run = pull(db, central.url, "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["imported"] == 1

    form = CentralForm("https://central.elsewhere.example", 3, KIND.form_id)
    with pytest.raises(InvalidInput, match=r"is for http://127\.0\.0\.1:\d+/, not https://central\.elsewhere"):
        credentials_for(form)
    assert PASSWORD not in repr(credentials_for(CentralForm(central.url, 3, KIND.form_id)))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-central", "central.example", "--project", "3", "--form-id", "f"], "needs the server's address"),
        (["--from-central", "https://u:p@central.example", "--project", "3", "--form-id", "f"], "not the URL"),
        (["--from-central", "https://central.example", "--form-id", "f"], "needs --project N and --form-id"),
        (["--from-central", "https://central.example", "--project", "0", "--form-id", "f"], "1 or more"),
        (["--project", "3"], "go with --from-central"),
        (["export.json", "--from-central", "https://central.example", "--project", "3", "--form-id", "f"], "not both"),
        ([], "import needs a FILE"),
    ],
)
def test_bad_pull_requests(db: str, args: list[str], message: str) -> None:
    run = CliRunner().invoke(app, ["--db", db, "import", "submissions", "--form", "clearance", *args])
    assert run.exit_code == 2 and message in run.stderr, run.output
