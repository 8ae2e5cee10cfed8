"""Risk cells on the web map: stored predictions come through the vector tiles as a toggleable circle layer,
with its label in English and Ukrainian."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest

pytest.importorskip(
    "playwright.sync_api",
    exc_type=ImportError,
    reason="the playwright package is missing (.ci/run installs the dev extras)",
)

from playwright.sync_api import Browser, BrowserContext, expect

from landrelease.actions.risk_cells import cells_from_store, store_risk
from landrelease.domain.records import Change
from landrelease.store import open_store
from tests.browser.conftest import ARTIFACTS, Server
from tests.browser.test_web import Console, sign_in, wait_for_map

pytestmark = pytest.mark.browser


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    try:
        yield made
    finally:
        made.close()


def test_risk_cells_layer(context: BrowserContext, server: Server) -> None:
    with open_store(str(server.db)) as store:
        cells = cells_from_store(store, 10_000.0).table
        risk = np.linspace(0.0, 1.0, len(cells))  # any values: the test is about drawing them
        drivers = [[("hazard_m", -0.5)] for _ in range(len(cells))]
        store_risk(store, cells, risk, drivers, "browser-test.json", 10_000.0, Change("test", "risk on the map"))
    page = context.new_page()
    console = Console(page)
    sign_in(page, server, "viewer")
    wait_for_map(page)
    # the layer index is rebuilt when the cell count changes; a fresh page load asks for the tiles anew
    page.wait_for_function(
        "() => window.__map.queryRenderedFeatures({layers: ['risk-cells']}).length > 0", timeout=60_000
    )
    risks = page.evaluate(
        "() => window.__map.queryRenderedFeatures({layers: ['risk-cells']}).map((f) => f.properties.risk)"
    )
    assert all(0.0 <= r <= 1.0 for r in risks) and len(set(risks)) > 1
    toggle = page.locator("#layer-toggles input[value='risk_cells']")
    expect(page.locator("#layer-toggles")).to_contain_text("Risk cells (predicted)")
    page.screenshot(path=str(ARTIFACTS / "map-risk.png"))
    toggle.uncheck()
    assert page.evaluate("window.__map.getLayoutProperty('risk-cells', 'visibility')") == "none"
    toggle.check()
    assert page.evaluate("window.__map.getLayoutProperty('risk-cells', 'visibility')") == "visible"
    page.select_option("#language", "uk")
    expect(page.locator("#layer-toggles")).to_contain_text("Клітинки ризику (прогноз)")
    expect(page.locator(".sidebar")).to_contain_text(re.compile("ніколи не є підставою"))
    page.select_option("#language", "en")
    assert page.evaluate("window.__mapErrors") == []
    assert console.problems() == []
