"""The real app in a uvicorn subprocess over a small demo programme, and Debian's chromium driven by playwright.

Skipped (with the reason) where ``/usr/bin/chromium`` or the playwright package is missing; ``.ci/run``
installs both, so CI runs these. Never ``playwright install``: it downloads a browser, which cannot work here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # WebGL2 on the CPU (SwiftShader), as there is no GPU.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "browser-test-password"
#: Demo users: name -> (role, organisation).
USERS = {
    "viewer": ("viewer", None),
    "operator": ("operator", "Demo Demining Group"),
    "reviewer": ("reviewer", None),
}

try:
    from playwright.sync_api import Browser, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]


def _skip_reason() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)"
    if sync_playwright is None:
        return "the playwright package is missing (pip install -e '.[dev]'; .ci/run installs it)"
    return None


def _landrelease(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "landrelease", *args], input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"landrelease {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    db: Path
    process: subprocess.Popen[bytes]
    users: dict[str, str] = field(default_factory=dict)

    def api(self, path: str, token_user: str = "reviewer") -> Any:
        """GET an API path as a user (by bearer token): for checks beside the browser."""
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.users[token_user]}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    reason = _skip_reason()
    if reason and os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {reason}")  # .ci/run installs both
    if reason:
        pytest.skip(reason)
    db = tmp_path_factory.mktemp("browser") / "demo.gpkg"
    _landrelease("--db", str(db), "demo", "--no-serve", "--hazards", "200", "--json")
    tokens = {}
    for name, (role, org) in USERS.items():
        extra = ["--org", org] if org else []
        out = _landrelease(
            "--db", str(db), "user", "add", name, "--role", role, *extra, "--password-stdin", stdin=PASSWORD + "\n"
        )
        tokens[name] = out.strip().splitlines()[-1]
    port = _free_port()
    log = open(db.parent / "server.log", "wb")  # noqa: SIM115 - closed below
    # The real command users run (``landrelease serve``), on a free loopback port.
    command = [
        sys.executable,
        "-m",
        "landrelease",
        "--db",
        str(db),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.close()
                raise RuntimeError((db.parent / "server.log").read_text()) from None
            time.sleep(0.2)
    try:
        yield Server(url=url, db=db, process=process, users=tokens)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def browser(server: Server) -> Iterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()
