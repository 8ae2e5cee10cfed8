"""Every label the PDF report shows, in English and Ukrainian. A missing translation is a test failure,
never an English word in a Ukrainian report."""

from __future__ import annotations

LANGS = ("en", "uk")

STRINGS: dict[str, tuple[str, str]] = {
    # title page
    "title": ("Land release report", "Звіт про повернення земель"),
    "subtitle": (
        "Humanitarian mine action: survey, clearance and land release",
        "Гуманітарне розмінування: обстеження, очищення та повернення земель",
    ),
    "period": ("Period", "Період"),
    "all_time": ("All records to date", "Усі записи на цей час"),
    "generated": ("Generated", "Створено"),
    "data_version": ("Data version", "Версія даних"),
    "ledger_changes": ("ledger changes counted", "зареєстрованих змін реєстру"),
    "ledger_current": ("stored figures current", "збережені показники актуальні"),
    "ledger_recomputed": ("figures computed from the polygons", "показники обчислено з полігонів"),
    "schema": ("schema version", "версія схеми"),
    "database": ("Database", "База даних"),
    "records": ("Records", "Записи"),
    "synthetic": (
        "SYNTHETIC DEMONSTRATION DATA: not a real programme",
        "СИНТЕТИЧНІ ДЕМОНСТРАЦІЙНІ ДАНІ: не справжня програма",
    ),
    "trace_note": (
        "Every figure traces to its records: `landrelease report land-release --json` lists the ids of the "
        "hazards, outcomes, finds and sessions behind each one.",
        "Кожен показник простежується до записів: `landrelease report land-release --json` перелічує "
        "ідентифікатори небезпечних територій, результатів, знахідок і занять за кожним із них.",
    ),
    "page": ("Page", "Сторінка"),
    # sections
    "summary": ("Summary", "Підсумок"),
    "identity": (
        "Estimated = released before the period + cancelled + reduced + cleared + remaining (geodesic, WGS84).",
        "Оцінена площа = повернуто до періоду + скасовано + зменшено + очищено + залишок (геодезично, WGS84).",
    ),
    "map": ("Map of the area", "Карта території"),
    "map_note": (
        "Hazardous areas coloured by status; administrative areas outlined. No base map tiles are used.",
        "Небезпечні території за статусом; межі адміністративних одиниць. Без підкладки з інтернету.",
    ),
    "released_over_time": ("Land released over time", "Повернення земель у часі"),
    "by_admin": ("By administrative area", "За адміністративними одиницями"),
    "by_operator": ("By operator", "За операторами"),
    "by_month": ("By month", "За місяцями"),
    "by_quarter": ("By quarter", "За кварталами"),
    "by_year": ("By year", "За роками"),
    "by_donor": ("By donor", "За донорами"),
    "items": ("Explosive ordnance found and destroyed", "Знайдені та знищені вибухонебезпечні предмети"),
    "eore": ("Explosive ordnance risk education", "Навчання ризикам, пов'язаним з вибухонебезпечними предметами"),
    "treaty": ("Treaty reporting", "Звітність за міжнародними договорами"),
    "article7": (
        "Ottawa Convention, Article 7: mined areas",
        "Оттавська конвенція, стаття 7: заміновані території",
    ),
    "article7_warnings": (
        "Ottawa Convention, Article 7: measures to warn the population",
        "Оттавська конвенція, стаття 7: заходи з попередження населення",
    ),
    "article5": ("Ottawa Convention, Article 5: progress", "Оттавська конвенція, стаття 5: поступ"),
    "ccw": (
        "CCW Amended Protocol II: clearance summary",
        "Змінений Протокол II КНЗ: підсумок очищення",
    ),
    "year": ("Year", "Рік"),
    "rows_more": (
        "{shown} of {total} areas shown; the full list: landrelease report article7 --csv",
        "Показано {shown} з {total} територій; повний перелік: landrelease report article7 --csv",
    ),
    "none_rows": ("No records in this period.", "У цьому періоді записів немає."),
    "notes": ("Notes", "Примітки"),
    # figures
    "hazards": ("Hazards", "Небезпечні території"),
    "estimated": ("Estimated", "Оцінена площа"),
    "released_before": ("Released before", "Повернуто раніше"),
    "cancelled": ("Cancelled", "Скасовано"),
    "reduced": ("Reduced", "Зменшено"),
    "cleared": ("Cleared", "Очищено"),
    "remaining": ("Remaining", "Залишок"),
    "released": ("Released", "Повернуто"),
    "outcomes": ("Outcomes", "Результати"),
    "found": ("Found", "Знайдено"),
    "destroyed": ("Destroyed", "Знищено"),
    "category": ("Category", "Категорія"),
    "group": ("Group", "Група"),
    "total": ("Total", "Усього"),
    "figure": ("Figure", "Показник"),
    "sessions": ("Sessions", "Заняття"),
    "direct": ("Direct beneficiaries", "Прямі бенефіціари"),
    "indirect": ("Indirect beneficiaries", "Непрямі бенефіціари"),
    "female": ("Female", "Жінки"),
    "male": ("Male", "Чоловіки"),
    "age": ("Age", "Вік"),
    "hectares": ("hectares", "гектари"),
    "none": ("(none)", "(немає)"),
    # statuses
    "active": ("Active", "Активна"),
    "worked_on": ("Being worked on", "У роботі"),
    "closed": ("Closed", "Закрита"),
    "handed_over": ("Handed over", "Передана"),
    "admin_area_outline": ("Administrative area", "Адміністративна одиниця"),
    # treaty columns
    "id": ("Id", "Ідентифікатор"),
    "name": ("Name", "Назва"),
    "admin_area": ("Administrative area", "Адміністративна одиниця"),
    "longitude": ("Longitude", "Довгота"),
    "latitude": ("Latitude", "Широта"),
    "hazard_class": ("Class", "Клас"),
    "status": ("Status", "Статус"),
    "mine_types": ("Mine types", "Типи мін"),
    "ap_mines_found": ("AP mines found", "Знайдено ППМ"),
    "first_reported": ("First reported", "Вперше повідомлено"),
    "emplacement_date": ("Date of emplacement", "Дата встановлення"),
    "estimated_m2": ("Estimated (m²)", "Оцінена площа (м²)"),
    "released_in_year_m2": ("Released in year (m²)", "Повернуто за рік (м²)"),
    "remaining_m2": ("Remaining (m²)", "Залишок (м²)"),
    "warning_measures": ("Warning measures", "Заходи попередження"),
    "areas": ("Areas", "Території"),
    "areas_marked": ("Areas marked", "Позначені території"),
    "eore_sessions": ("Risk education sessions", "Заняття з навчання ризикам"),
    "eore_beneficiaries": ("Beneficiaries", "Бенефіціари"),
    "areas_at_start": ("Areas at start", "Території на початок"),
    "remaining_at_start_m2": ("Remaining at start (m²)", "Залишок на початок (м²)"),
    "new_areas": ("New areas", "Нові території"),
    "new_m2": ("New (m²)", "Нові (м²)"),
    "cancelled_m2": ("Cancelled (m²)", "Скасовано (м²)"),
    "reduced_m2": ("Reduced (m²)", "Зменшено (м²)"),
    "cleared_m2": ("Cleared (m²)", "Очищено (м²)"),
    "areas_completed": ("Areas completed", "Завершені території"),
    "areas_at_end": ("Areas at end", "Території на кінець"),
    "remaining_at_end_m2": ("Remaining at end (m²)", "Залишок на кінець (м²)"),
    "ap_mines_destroyed": ("AP mines destroyed", "Знищено ППМ"),
    "mined_areas": ("Mined areas", "Заміновані території"),
    "areas_cleared": ("Areas cleared", "Очищені території"),
    "at_mines_destroyed": ("AT mines destroyed", "Знищено ПТМ"),
    "other_items_destroyed": ("Other items destroyed", "Знищено інших предметів"),
    "TOTAL": ("Total", "Усього"),
    "not recorded": ("not recorded", "не зафіксовано"),
    # treaty notes, in the order treaty.py writes them
    "article7_note_0": (
        "Areas known or suspected to contain anti-personnel mines at any time in the year; location is a point "
        "inside each area (WGS84).",
        "Території, де відомо або підозрюється наявність протипіхотних мін упродовж року; розташування — точка "
        "всередині кожної території (WGS84).",
    ),
    "article7_note_1": (
        "Quantity where known: anti-personnel mines found in the area up to the end of the year.",
        "Кількість, де відома: протипіхотні міни, знайдені на території до кінця року.",
    ),
    "article7_note_2": (
        "The date of emplacement is not recorded in this database; the date the area was first reported is given.",
        "Дата встановлення в цій базі не зафіксована; наведено дату першого повідомлення про територію.",
    ),
    "article5_note": (
        "Remaining at start + new - cancelled - reduced - cleared = remaining at end, per row (m²).",
        "Залишок на початок + нові - скасовано - зменшено - очищено = залишок на кінець, для кожного рядка (м²).",
    ),
    "ccw_note": (
        "Other items: explosive ordnance that is not a mine (explosive remnants of war: CCW Protocol V).",
        "Інші предмети: вибухонебезпечні предмети, що не є мінами (вибухонебезпечні залишки війни: Протокол V КНЗ).",
    ),
}

#: The ordnance catalogue's categories and subcategories (domain/ordnance.py).
ORDNANCE: dict[str, str] = {
    "Landmine": "Міна",
    "Unexploded ordnance": "Нерозірваний боєприпас",
    "Submunition": "Суббоєприпас",
    "Anti-personnel": "Протипіхотна",
    "Anti-tank": "Протитанкова",
    "Dual-purpose": "Подвійного призначення",
    "Projectile": "Снаряд",
    "Mortar": "Міна міномета",
    "Grenade": "Граната",
    "Rocket": "Реактивний снаряд",
    "Unknown": "Невідомо",
}


def text(key: str, lang: str) -> str:
    en, uk = STRINGS[key]
    return uk if lang == "uk" else en


def category(label: str, lang: str) -> str:
    """``Landmine / Anti-personnel`` in the report's language (names the catalogue does not know stay as
    recorded: they are the record's own words)."""
    if lang != "uk":
        return label
    return " / ".join(ORDNANCE.get(part.strip(), part.strip()) for part in label.split("/"))
