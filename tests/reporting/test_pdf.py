"""The PDF report in each language, checked by rendering it: pages exist, are not blank, hold the text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from landrelease.actions.reports import write_pdf
from landrelease.errors import InvalidInput
from landrelease.reporting.strings import STRINGS
from landrelease.store import Store
from tests.analysis.test_reports import programme  # noqa: F401  (the hand-computed programme fixture)


def _tools() -> None:
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is absent (Debian package poppler-utils)")


@pytest.mark.parametrize(
    ("lang", "expected", "foreign"),
    [
        ("en", ["Land release report", "First", "Article 5", "Landmine / Anti-personnel"], "Очищено"),
        ("uk", ["Звіт про повернення земель", "Перша", "стаття 5", "Міна / Протипіхотна"], "Remaining"),
    ],
)
def test_pdf_renders_in_each_language(
    programme: Store,  # noqa: F811
    tmp_path: Path,
    lang: str,
    expected: list[str],
    foreign: str,
) -> None:
    _tools()
    pdf = tmp_path / f"report-{lang}.pdf"
    pages = write_pdf(programme, pdf, by="admin", period="2024", lang=lang)
    assert pages >= 4
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    for image in images:
        grey = Image.open(image).convert("L")
        assert ImageStat.Stat(grey).stddev[0] > 5, f"{image.name} is blank"
    # The map page: a drawing, not just text (many non-white pixels).
    ink = [sum(Image.open(i).convert("L").histogram()[:200]) for i in images]
    assert max(ink) > 2_000
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for word in expected:
        assert word in text, word
    assert "2024-01-01" in text and "2024-12-31" in text  # the period
    assert foreign not in text  # no label left in the other language


def test_every_label_has_both_languages() -> None:
    assert all(en.strip() and uk.strip() for en, uk in STRINGS.values())


def test_bad_language_and_folder_are_refused(programme: Store, tmp_path: Path) -> None:  # noqa: F811
    with pytest.raises(InvalidInput, match="--lang takes en or uk"):
        write_pdf(programme, tmp_path / "r.pdf", lang="fr")
    with pytest.raises(InvalidInput, match="does not exist"):
        write_pdf(programme, tmp_path / "missing" / "r.pdf")
