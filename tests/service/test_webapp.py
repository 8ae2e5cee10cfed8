"""The web app's pages, static files, headers and strings (no browser: tests/browser drives chromium)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from landrelease.service.app import create_app
from landrelease.service.webapp import CONTENT_SECURITY_POLICY, PAGES, WEB_DIR, mount_web
from tests.service.conftest import PASSWORD, Programme, TestClient

I18N = WEB_DIR / "i18n"
HTML = sorted(WEB_DIR.glob("*.html"))
SCRIPTS = sorted((WEB_DIR / "js").glob("*.js"))


@pytest.fixture
def web(programme: Programme) -> Iterator[TestClient]:
    """The programme's app with the web app mounted (unless ``create_app`` already does it)."""
    app = create_app(programme.db)
    mount_web(app)  # does nothing if create_app already did it
    with TestClient(app) as client:
        yield client


def strings(language: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((I18N / f"{language}.json").read_text(encoding="utf-8"))
    return loaded


# --- pages and files ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_is_served_with_a_same_origin_policy(web: TestClient, path: str) -> None:
    response = web.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module"' in response.text


def test_the_policy_allows_this_origin_only() -> None:
    sources = " ".join(part.split(" ", 1)[1] for part in CONTENT_SECURITY_POLICY.split("; "))
    assert "http" not in sources and "unsafe" not in sources and "*" not in sources


def test_home_goes_to_login_or_to_the_map(web: TestClient) -> None:
    response = web.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert web.post("/api/login", json={"name": "viewer", "password": PASSWORD}).status_code == 200
    response = web.get("/", follow_redirects=False)
    assert response.headers["location"] == "/map"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/static/vendor/maplibre-gl.mjs", "text/javascript"),
        ("/static/vendor/maplibre-gl-worker.mjs", "text/javascript"),
        ("/static/vendor/maplibre-gl.css", "text/css"),
        ("/static/js/map.js", "text/javascript"),
        ("/static/i18n/uk.json", "application/json"),
    ],
)
def test_static_files_have_their_media_types(web: TestClient, path: str, kind: str) -> None:
    response = web.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)


def test_static_files_stay_in_their_folder(web: TestClient) -> None:
    for path in (
        "/static/../webapp.py",
        "/static/%2e%2e/webapp.py",
        "/static/..%2fwebapp.py",
        "/static/js/../../app.py",
    ):
        response = web.get(path)
        assert response.status_code in (401, 404), path
        assert "import" not in response.text


def test_the_api_stays_closed(web: TestClient) -> None:
    assert web.get("/api/hazards").status_code == 401
    assert web.get("/api/me").status_code == 401


def test_the_synthetic_flag_follows_the_data(web: TestClient) -> None:
    # The conftest programme is real-looking test data, not the synthetic demo.
    assert web.get("/web/synthetic").json() == {"synthetic": False}


def test_maplibre_is_vendored_with_its_licence() -> None:
    vendor = WEB_DIR / "vendor"
    assert "MapLibre" in (vendor / "LICENSE-maplibre-gl.txt").read_text(encoding="utf-8")
    head = (vendor / "maplibre-gl.mjs").read_text(encoding="utf-8")[:300]
    assert "MapLibre GL JS" in head


def test_nothing_is_fetched_from_elsewhere() -> None:
    for path in [*HTML, *SCRIPTS, WEB_DIR / "css" / "app.css"]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), path
        assert "fetch('http" not in text and 'fetch("http' not in text, path


def test_no_inline_script_or_style() -> None:
    for path in HTML:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"{path.name}: inline script (blocked by the CSP)"
        assert "<style" not in text and " style=" not in text, f"{path.name}: inline style (blocked by the CSP)"


# --- strings ------------------------------------------------------------------------------------


def test_english_and_ukrainian_have_the_same_keys() -> None:
    en, uk = strings("en"), strings("uk")
    assert set(en) == set(uk)
    assert all(isinstance(v, str) and v.strip() for v in [*en.values(), *uk.values()])


def test_placeholders_agree_between_languages() -> None:
    en, uk = strings("en"), strings("uk")
    for key, text in en.items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", uk[key])), key


def _used_keys(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    keys = set(re.findall(r"data-i18n(?:-[a-z-]+)?=[\"']([\w.]+)[\"']", text))
    keys |= set(re.findall(r"'data-i18n(?:-[a-z-]+)?':\s*'([\w.]+)'", text))
    keys |= set(re.findall(r"\bt\(\s*'([\w.]+)'", text))
    return keys


def test_every_key_the_pages_use_exists() -> None:
    en = strings("en")
    used: set[str] = set()
    for path in [*HTML, *SCRIPTS]:
        missing = _used_keys(path) - set(en)
        assert not missing, f"{path.name} uses missing keys {sorted(missing)}"
        used |= _used_keys(path)
    assert len(used) > 50


def test_html_text_comes_from_the_strings() -> None:
    """No visible English in the HTML: every element's text is empty (filled from i18n) or a symbol."""
    for path in HTML:
        text = re.sub(r"<(script|title)[^>]*>.*?</\1>", "", path.read_text(encoding="utf-8"), flags=re.S)
        for words in re.findall(r">([^<]+)<", text):
            assert not re.search(r"[A-Za-z]{2,}", words), f"{path.name}: hard-coded text {words.strip()!r}"


def test_mounting_twice_changes_nothing(programme: Programme) -> None:
    app = create_app(programme.db)
    mount_web(app)
    count = len(app.user_middleware)
    mount_web(app)
    assert len(app.user_middleware) == count
