"""The web app in a real browser: sign in, the map renders, a hazard's detail panel, Ukrainian, and the
submit (operator) -> approve (reviewer) -> national figure changes workflow. Screenshots go to artifacts/."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip(
    "playwright.sync_api",
    exc_type=ImportError,
    reason="the playwright package is missing (.ci/run installs the dev extras)",
)

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.browser.conftest import ARTIFACTS, PASSWORD, Server

pytestmark = pytest.mark.browser
MAP_IDLE_TIMEOUT_MS = 90_000


class Console:
    """Console errors of a page (CSP violations, failed module loads, uncaught errors)."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def _message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def problems(self) -> list[str]:
        # A 401 on /api/me before signing in is the login redirect doing its job, not a problem.
        return [e for e in self.errors if "401" not in e]


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    try:
        yield made
    finally:
        made.close()


def sign_in(page: Page, server: Server, user: str, then: str = "/map") -> None:
    page.goto(f"{server.url}{then}")
    page.wait_for_url(re.compile(r"/login"))
    page.fill("#login-name", user)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(re.escape(then) + "$"))


def wait_for_map(page: Page) -> None:
    page.wait_for_function("() => window.__mapIdle === true", timeout=MAP_IDLE_TIMEOUT_MS)


def test_login_map_hazard_and_ukrainian(context: BrowserContext, server: Server) -> None:
    page = context.new_page()
    console = Console(page)
    sign_in(page, server, "viewer")
    expect(page.locator("#watermark")).to_have_text("SYNTHETIC DEMO DATA")
    wait_for_map(page)
    assert page.evaluate("window.__mapErrors") == []
    drawn = page.evaluate("window.__map.queryRenderedFeatures({layers: ['hazards-fill']}).length")
    assert drawn > 0, "no hazard drawn from the vector tiles"
    assert page.evaluate("window.__map.queryRenderedFeatures({layers: ['admin-fill']}).length") > 0
    page.screenshot(path=str(ARTIFACTS / "map.png"))

    # Zoom to a drawn hazard and click it, as a person would.
    hazard_id = page.evaluate(
        """() => {
        const f = window.__map.queryRenderedFeatures({layers: ['hazards-fill']})[0];
        const id = f.properties.id;
        return id;
    }"""
    )
    hazard = server.api(f"/api/hazards/{hazard_id}")
    coordinates = hazard["geometry"]["coordinates"][0][0]
    lon = sum(c[0] for c in coordinates[:-1]) / (len(coordinates) - 1)
    lat = sum(c[1] for c in coordinates[:-1]) / (len(coordinates) - 1)
    page.evaluate(
        "([lon, lat]) => { window.__mapIdle = false; window.__map.jumpTo({center: [lon, lat], zoom: 16}); }", [lon, lat]
    )
    wait_for_map(page)
    box = page.locator("#map canvas").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#detail-title")).to_contain_text(hazard_id)
    ledger = page.locator("#ledger")
    expect(ledger).to_contain_text("Estimated")
    estimated_ha = hazard["properties"]["estimated_m2"] / 10_000
    expect(ledger).to_contain_text(f"{estimated_ha:,.2f}")
    expect(page.locator("#detail")).to_contain_text("History")
    page.wait_for_function("() => window.__mapIdle === true", timeout=MAP_IDLE_TIMEOUT_MS)
    page.screenshot(path=str(ARTIFACTS / "hazard-detail.png"))

    # Ukrainian, remembered across a reload.
    page.select_option("#language", "uk")
    expect(page.locator("#ledger")).to_contain_text("Оцінено")
    expect(page.locator("header .nav a[href='/map']")).to_have_text("Мапа")
    expect(page.locator("#watermark")).to_have_text("СИНТЕТИЧНІ ДЕМО-ДАНІ")
    page.screenshot(path=str(ARTIFACTS / "hazard-detail-uk.png"))
    page.reload()
    expect(page.locator("header .nav a.active")).to_have_text("Мапа")
    assert page.evaluate("localStorage.getItem('landrelease.lang')") == "uk"
    page.select_option("#language", "en")
    assert console.problems() == []


def _figures(page: Page, server: Server) -> tuple[str, str]:
    page.goto(f"{server.url}/dashboard")
    page.wait_for_selector("body[data-ready='true']")
    return page.locator("#total-hazards .figure").inner_text(), page.locator("#total-estimated .figure").inner_text()


def test_submit_approve_and_the_national_figure_changes(browser: Browser, server: Server, tmp_path: Path) -> None:
    operator = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    reviewer = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    try:
        # The operator checks a GeoJSON file on the import page, then submits it as a report.
        page = operator.new_page()
        console = Console(page)
        sign_in(page, server, "operator", then="/import")
        square = [[37.30, 49.40], [37.305, 49.40], [37.305, 49.404], [37.30, 49.404], [37.30, 49.40]]
        report = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "Browser test hazard", "hazard_class": "CHA", "contamination": "AP mines"},
                    "geometry": {"type": "Polygon", "coordinates": [square]},
                }
            ],
        }
        upload = tmp_path / "report.geojson"
        upload.write_text(json.dumps(report))
        page.select_option("#import-layer", "hazards")
        page.set_input_files("#import-file", str(upload))
        page.click("#import-check")
        page.wait_for_selector("body[data-import-checked='true']")
        expect(page.locator("#import-summary")).to_have_text("1 of 1 features pass the checks; 0 refused, 0 repaired.")
        page.click("#import-submit")
        page.wait_for_selector("body[data-import-done='true']")
        expect(page.locator("#import-summary")).to_have_text("1 submitted for review, 0 refused.")
        submitted = page.locator("#import-results td").nth(2).inner_text()
        submission_id = submitted.removeprefix("submitted as ").strip()
        page.screenshot(path=str(ARTIFACTS / "import.png"))
        assert console.problems() == []

        # The reviewer sees the national figures, then approves the report as a new hazard.
        page = reviewer.new_page()
        console = Console(page)
        sign_in(page, server, "reviewer", then="/dashboard")
        hazards_before, estimated_before = _figures(page, server)
        page.goto(f"{server.url}/review")
        page.wait_for_selector("body[data-ready='true']")
        page.click(f"button[data-submission='{submission_id}']")
        expect(page.locator("#submission-title")).to_contain_text(submission_id)
        expect(page.locator("#submission")).to_contain_text("Browser test hazard")
        page.screenshot(path=str(ARTIFACTS / "review.png"))
        page.fill("#decision-reason", "checked against the survey report")
        page.click("#approve-new")
        expect(page.locator("#review-done")).to_have_text(f"{submission_id} approved.")

        hazards_after, estimated_after = _figures(page, server)
        assert int(hazards_after.replace(",", "")) == int(hazards_before.replace(",", "")) + 1
        assert estimated_after != estimated_before
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        assert console.problems() == []
    finally:
        operator.close()
        reviewer.close()


def test_anonymous_pages_go_to_login(context: BrowserContext, server: Server) -> None:
    page = context.new_page()
    for path in ("/map", "/review", "/import", "/dashboard"):
        page.goto(f"{server.url}{path}")
        page.wait_for_url(re.compile(r"/login\?next="))
    page.goto(server.url + "/")
    page.wait_for_url(re.compile(r"/login$"))
    expect(page.locator("#watermark")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "login.png"))
