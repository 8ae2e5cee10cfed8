"""The PDF report a national authority can send: title page with the period and the data's version stamp,
summary, map, charts, tables and the treaty tables, in English or Ukrainian. Rendered with WeasyPrint from
HTML built here; figures come from ``analysis`` unchanged (this module only lays them out).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from landrelease.analysis.land_release import Group, LandReleaseReport, build_report
from landrelease.analysis.programme import NONE_KEY, Programme
from landrelease.analysis.treaty import TreatyTable
from landrelease.domain.records import Scalar
from landrelease.domain.schema import AGE_BANDS, BENEFICIARY_FIELDS
from landrelease.errors import InvalidInput
from landrelease.reporting import figures
from landrelease.reporting.strings import category, text

#: Article 7 lists every area; the PDF shows this many and points to the CSV for the rest.
ARTICLE7_ROWS = 300
CSS = (Path(__file__).with_name("report.css")).read_text("utf-8")


def render_pdf(
    p: Programme, report: LandReleaseReport, tables: Sequence[TreatyTable], path: Path, *, lang: str = "en"
) -> int:
    """Write the report to ``path``; return the number of pages."""
    from weasyprint import HTML

    document = HTML(string=report_html(p, report, tables, lang=lang)).render()
    try:
        document.write_pdf(target=str(path))
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    return len(document.pages)


def report_html(p: Programme, report: LandReleaseReport, tables: Sequence[TreatyTable], *, lang: str) -> str:
    def t(key: str) -> str:
        return text(key, lang)

    parts = [_title_page(p, report, lang), _summary(report, lang)]
    if p.hazard_geoms is not None and p.admin_geoms is not None:
        png = figures.area_map(p.hazard_geoms, p.hazards["status"], p.admin_geoms, lang)
        parts.append(f"<h2>{t('map')}</h2>{_img(png, 'map')}<p class='note'>{t('map_note')}</p>")
    parts.append(_over_time(p, report, lang))
    if report.by is not None and report.groups:
        parts.append(_groups(p, report, lang))
    if report.national is not None:
        parts.append(_items_and_eore(report.national, lang))
    for table in tables:
        parts.append(_treaty(table, lang))
    body = "\n".join(parts)
    return (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>{t('title')}</title>"
        f"<style>{CSS}\n@page {{ @bottom-right {{ content: '{t('page')} ' counter(page) ' / ' counter(pages); }} }}"
        f"</style></head><body>{body}</body></html>"
    )


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _img(png: bytes, alt: str) -> str:
    return f"<img class='figure' alt='{alt}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def _num(value: object, digits: int = 1) -> str:
    if isinstance(value, bool) or value is None:
        return _e(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    if isinstance(value, float):
        return f"{value:,.{digits}f}".replace(",", "\u202f")
    return _e(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _name(p: Programme, report: LandReleaseReport, g: Group, lang: str) -> str:
    if g.key == NONE_KEY:
        return text("none", lang)
    return p.admin_name(g.key, lang) if report.by == "admin" else g.name


def _title_page(p: Programme, report: LandReleaseReport, lang: str) -> str:
    def t(key: str) -> str:
        return text(key, lang)

    v = p.version
    period = f"{report.period.start} – {report.period.end}" if report.period else t("all_time")
    state = t("ledger_current") if v.ledger_current else t("ledger_recomputed")
    counts = ", ".join(f"{_e(layer)} {n:,}" for layer, n in v.records.items() if layer != "victims")
    banner = f"<p class='synthetic'>{t('synthetic')}</p>" if p.synthetic else ""
    return f"""
<section class='title'>
  <h1>{t("title")}</h1>
  <p class='subtitle'>{t("subtitle")}</p>
  {banner}
  <table class='stamp'>
    <tr><th>{t("period")}</th><td>{_e(period)}</td></tr>
    <tr><th>{t("generated")}</th><td>{_e(v.generated_at)}</td></tr>
    <tr><th>{t("data_version")}</th><td>{v.ledger_changes:,} {t("ledger_changes")}; {state};
        {t("schema")} {v.schema_version}</td></tr>
    <tr><th>{t("records")}</th><td>{counts}</td></tr>
    <tr><th>{t("database")}</th><td>{_e(Path(v.database).name)}</td></tr>
  </table>
  <p class='note'>{_e(t("trace_note"))}</p>
</section>"""


def _summary(report: LandReleaseReport, lang: str) -> str:
    tot = report.totals
    figures_ = [
        ("estimated", tot.estimated_m2),
        *([("released_before", report.released_before_m2)] if report.period else []),
        ("cancelled", tot.cancelled_m2),
        ("reduced", tot.reduced_m2),
        ("cleared", tot.cleared_m2),
        ("remaining", tot.remaining_m2),
    ]
    rows = [[text(k, lang), _num(v, 0), _num(v / 1e4, 2), _num(v / 1e6, 4)] for k, v in figures_]
    rows.insert(0, [text("hazards", lang), _num(tot.hazards), "", ""])
    headers = [text("figure", lang), "m²", "ha", "km²"]
    return (
        f"<h2>{text('summary', lang)}</h2>{_table(headers, rows, 'summary')}"
        f"<p class='note'>{text('identity', lang)}</p>"
    )


def _over_time(p: Programme, report: LandReleaseReport, lang: str) -> str:
    dates = sorted(str(d)[:10] for d in p.outcomes["release_date"] if d)
    span = report.period
    first, last = (span.start, span.end) if span else (dates[0], dates[-1]) if dates else ("", "")
    months = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:7]) - int(first[5:7]) if first else 0
    unit = "month" if months <= 18 else "quarter" if months <= 60 else "year"
    timeline = build_report(p, unit, span)  # type: ignore[arg-type]
    groups = [g for g in timeline.groups if g.key != NONE_KEY]
    title = f"<h2>{text('released_over_time', lang)} ({text('by_' + unit, lang).lower()})</h2>"
    if not groups:
        return title + f"<p>{text('none_rows', lang)}</p>"
    data = [{k: float(v) for k, v in g.figures.items()} for g in groups]
    png = figures.released_bars([g.key for g in groups], data, lang)
    headers = [text("period", lang)]
    headers += [text(k, lang) + " (ha)" for k in ("cancelled", "reduced", "cleared", "released")]
    headers.append(text("outcomes", lang))
    rows = [
        [
            _e(g.key),
            *(_num(float(g.figures[f"{k}_m2"]) / 1e4, 2) for k in ("cancelled", "reduced", "cleared", "released")),
            _num(g.figures["outcomes"]),
        ]
        for g in groups
    ]
    return title + _img(png, "released") + _table(headers, rows, "numbers")


def _groups(p: Programme, report: LandReleaseReport, lang: str) -> str:
    hazard_level = report.by in ("admin", "operator")
    names = [_name(p, report, g, lang) for g in report.groups]
    data = [{k: float(v) for k, v in g.figures.items()} for g in report.groups]
    kinds = ["cancelled", "reduced", "cleared"]
    if hazard_level:
        kinds = ["estimated", *(["released_before"] if report.period else []), *kinds, "remaining"]
    png = figures.group_bars(names, data, lang) if hazard_level and len(names) <= 40 else b""
    headers = [text("group", lang), *(text(k, lang) + " (ha)" for k in kinds)]
    headers.append(text("hazards", lang) if hazard_level else text("outcomes", lang))
    headers += [text("found", lang), text("destroyed", lang), text("eore_beneficiaries", lang)]
    rows = []
    for name, g in zip(names, report.groups, strict=True):
        f = g.figures
        rows.append(
            [
                _e(name),
                *(_num(float(f.get(f"{k}_m2", 0.0)) / 1e4, 2) for k in kinds),
                _num(f.get("hazards" if hazard_level else "outcomes", 0)),
                _num(f.get("items_found", 0)),
                _num(f.get("items_destroyed", 0)),
                _num(f.get("eore_beneficiaries", 0)),
            ]
        )
    chart = _img(png, "groups") if png else ""
    return f"<h2>{text('by_' + (report.by or 'admin'), lang)}</h2>{chart}{_table(headers, rows, 'numbers small')}"


def _items_and_eore(national: Group, lang: str) -> str:
    items = [[_e(category(k, lang)), _num(v["found"]), _num(v["destroyed"])] for k, v in national.items.items()]
    items.append(
        [
            f"<b>{text('total', lang)}</b>",
            _num(national.figures.get("items_found", 0)),
            _num(national.figures.get("items_destroyed", 0)),
        ]
    )
    out = f"<h2>{text('items', lang)}</h2>"
    out += _table([text("category", lang), text("found", lang), text("destroyed", lang)], items, "numbers")
    e = national.eore
    bands = [b.replace("_plus", "+").replace("_", "-") for b in AGE_BANDS]
    rows = [[text(sex, lang), *(_num(e.get(f"{sex}_{b}", 0)) for b in AGE_BANDS)] for sex in ("female", "male")]
    out += f"<h2>{text('eore', lang)}</h2>"
    out += f"<p>{text('sessions', lang)}: {_num(e.get('sessions', 0))}; {text('direct', lang)}: "
    out += f"{_num(sum(e.get(n, 0) for n in BENEFICIARY_FIELDS))}; {text('indirect', lang)}: "
    out += f"{_num(e.get('indirect', 0))}</p>"
    out += _table([text("age", lang), *bands], rows, "numbers")
    if any(e.get(n, 0) for n in BENEFICIARY_FIELDS):
        out += _img(figures.beneficiary_bars(dict(e), AGE_BANDS, lang), "eore")
    return out


def _treaty(table: TreatyTable, lang: str) -> str:
    out = ""
    for section in table.sections:
        key = table.table if section.name in ("areas", "progress", "clearance") else f"{table.table}_{section.name}"
        rows = section.rows
        note = ""
        if key == "article7" and len(rows) > ARTICLE7_ROWS:
            note = "<p class='note'>" + _e(text("rows_more", lang).format(shown=ARTICLE7_ROWS, total=len(rows)))
            note += "</p>"
            rows = rows[:ARTICLE7_ROWS]
        cells = [[_cell(c, row.get(c), lang) for c in section.columns] for row in rows]
        headers = [text(c, lang) for c in section.columns]
        small = " small" if len(section.columns) > 10 else ""
        body = _table(headers, cells, "numbers" + small) if cells else f"<p>{text('none_rows', lang)}</p>"
        out += f"<h2 class='treaty'>{text(key, lang)}, {table.year}</h2>{body}{note}"
    notes = {"article7": ["article7_note_0", "article7_note_1", "article7_note_2"], "article5": ["article5_note"]}
    keys = notes.get(table.table, ["ccw_note"])
    out += "<ul class='note'>" + "".join(f"<li>{_e(text(k, lang))}</li>" for k in keys) + "</ul>"
    return out


def _cell(column: str, value: Scalar, lang: str) -> str:
    if column in ("status",) and isinstance(value, str) and value in ("active", "worked_on", "closed", "handed_over"):
        return _e(text(value, lang))
    if isinstance(value, str) and value in ("TOTAL", "not recorded", NONE_KEY):
        return _e(text({"TOTAL": "TOTAL", "not recorded": "not recorded", NONE_KEY: "none"}[value], lang))
    if column in ("longitude", "latitude"):
        return _num(value, 5)
    return _num(value, 0)
