"""Labels of the field forms in every language a programme configures (English and Ukrainian today).

English labels of fields come from the schema itself (``Field.label``); the other languages are kept here,
by field name with per-layer overrides where one name means different things. A field added to the schema
without a translation still appears in every language (with its English label) rather than breaking a form.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Language codes a form can carry, with the column suffix XLSForm expects ("label::English (en)").
LANGUAGES: dict[str, str] = {"en": "English (en)", "uk": "Українська (uk)"}

Text = Mapping[str, str]  # language code -> text

_FIELDS_UK: dict[str, str] = {
    "name": "Назва",
    "hazard_class": "Клас ділянки",
    "status": "Статус",
    "contamination": "Забруднення (напр. ПП міни, ПТ міни, касетні боєприпаси, ВНП)",
    "operator": "Оператор",
    "admin_area": "Адміністративна одиниця",
    "reported_date": "Дата повідомлення",
    "marking": "Заходи попередження (напр. знаки, огорожа, немає): стаття 7 Оттавської конвенції",
    "hazard_id": "Ідентифікатор небезпечної ділянки",
    "activity_type": "Вид робіт",
    "organisation": "Організація",
    "team": "Група",
    "donor": "Донор (хто фінансував роботи)",
    "start_date": "Дата початку",
    "end_date": "Дата завершення",
    "activity_id": "Ідентифікатор робіт",
    "depth_cm": "Глибина (см)",
    "release_date": "Дата вивільнення",
    "ordnance_category": "Категорія (напр. міна)",
    "ordnance_subcategory": "Підкатегорія (напр. протипіхотна)",
    "ordnance_model": "Модель (напр. ПМН-2)",
    "quantity": "Кількість",
    "condition": "Стан",
    "disposal": "Знешкодження",
    "found_date": "Дата виявлення",
    "accident_class": "Клас події",
    "accident_date": "Дата",
    "device": "Пристрій (модель боєприпасу)",
    "activity": "Що робили люди",
    "killed": "Загинуло",
    "injured": "Поранено",
    "accident_id": "Ідентифікатор нещасного випадку",
    "full_name": "Ім'я та прізвище",
    "sex": "Стать",
    "date_of_birth": "Дата народження",
    "address": "Адреса",
    "outcome": "Загинув(ла) чи поранений(а)",
    "injuries": "Травми",
    "assistance": "Отримана допомога",
    "session_date": "Дата заняття",
    "method": "Метод (напр. міжособистісний, цифровий, через ЗМІ)",
    "indirect_beneficiaries": "Непрямі бенефіціари",
    "reference_points": "Опорні точки (дві або більше «широта довгота», через ;)",
    "dimensions": "Розміри (напр. 200 м × 50 м)",
    "mine_types": "Типи мін (моделі, через ;)",
    "mines_emplaced": "Кількість встановлених мін",
    "emplacement_method": "Спосіб встановлення",
    "fuse_type": "Тип підривника (напр. натискний, натяжний, штировий, магнітний)",
    "self_destruct_days": "Період самоліквідації (днів)",
    "self_deactivation": "Самодеактивація",
    "laid_on": "Дата встановлення",
    "laid_time": "Час встановлення (гг:хх)",
    "anti_handling": "Елементи невилучення",
    "handed_over_by": "Ким передано (сторона, що встановила або задокументувала)",
}
_LAYER_FIELDS_UK: dict[tuple[str, str], str] = {
    ("outcomes", "kind"): "Спосіб вивільнення",
    ("outcomes", "depth_cm"): "Глибина очищення (см)",
    ("organisations", "kind"): "Вид організації",
}
_SEX_UK = {"female": "жінки та дівчата", "male": "чоловіки та хлопці"}
_BAND_UK = {"0_9": "0–9 років", "10_17": "10–17 років", "18_45": "18–45 років", "46_plus": "46 років і старше"}

#: Controlled vocabulary codes: English and Ukrainian labels.
CHOICES: dict[str, tuple[str, str]] = {
    "SHA": ("Suspected hazardous area (SHA)", "Підозріла небезпечна ділянка (ПНД)"),
    "CHA": ("Confirmed hazardous area (CHA)", "Підтверджена небезпечна ділянка (ПіНД)"),
    "EOD": ("EOD spot task (single item)", "Завдання зі знешкодження (окремий предмет)"),
    "stockpile": ("Stockpile", "Склад боєприпасів"),
    "active": ("Active", "Активна"),
    "worked_on": ("Being worked on", "У роботі"),
    "closed": ("Closed", "Закрита"),
    "handed_over": ("Handed over", "Передана"),
    "nts": ("Non-technical survey", "Нетехнічне обстеження"),
    "ts": ("Technical survey", "Технічне обстеження"),
    "clearance": ("Clearance", "Очищення (розмінування)"),
    "completion_survey": ("Completion survey", "Завершальне обстеження"),
    "eod_spot_task": ("EOD spot task", "Завдання зі знешкодження ВНП"),
    "qa_visit": ("Quality assurance visit", "Візит контролю якості"),
    "planned": ("Planned", "Заплановано"),
    "ongoing": ("Ongoing", "Триває"),
    "completed": ("Completed", "Завершено"),
    "suspended": ("Suspended", "Призупинено"),
    "aborted": ("Aborted", "Перервано"),
    "cleared": ("Cleared", "Очищено"),
    "reduced": ("Reduced", "Зменшено"),
    "cancelled": ("Cancelled", "Скасовано"),
    "mine": ("Mine", "Міна"),
    "uxo": ("Unexploded ordnance", "Боєприпас, що не вибухнув"),
    "cluster": ("Cluster munition", "Касетний боєприпас"),
    "ied": ("Improvised explosive device", "Саморобний вибуховий пристрій"),
    "stored_ammunition": ("Stored ammunition", "Складовані боєприпаси"),
    "demining": ("Demining accident", "Нещасний випадок під час розмінування"),
    "female": ("Female", "Жіноча"),
    "male": ("Male", "Чоловіча"),
    "unknown": ("Unknown", "Невідомо"),
    "killed": ("Killed", "Загинув(ла)"),
    "injured": ("Injured", "Поранений(а)"),
    "yes": ("Yes", "Так"),
    "no": ("No", "Ні"),
    "hand_laid": ("Hand-laid", "Вручну"),
    "mechanically_laid": ("Mechanically laid", "Механізовано"),
    "remotely_delivered": ("Remotely delivered", "Дистанційне мінування"),
    "authority": ("Authority", "Орган управління"),
    "team": ("Team", "Група"),
}

#: The ordnance catalogue's categories and subcategories (models keep their international names).
ORDNANCE_UK: dict[str, str] = {
    "Landmine": "Міна",
    "Unexploded ordnance": "Боєприпас, що не вибухнув",
    "Submunition": "Касетний суббоєприпас",
    "Anti-personnel": "Протипіхотна",
    "Anti-tank": "Протитанкова",
    "Dual-purpose": "Подвійного призначення",
    "Projectile": "Артилерійський снаряд",
    "Mortar": "Мінометна міна",
    "Grenade": "Граната",
    "Rocket": "Реактивний снаряд",
}

#: Words of the forms themselves: titles, sections, hints, messages.
PHRASES: dict[str, tuple[str, str]] = {
    "form.nts": ("Non-technical survey", "Нетехнічне обстеження"),
    "form.ts": ("Technical survey", "Технічне обстеження"),
    "form.clearance": ("Clearance", "Очищення (розмінування)"),
    "form.eod": ("EOD spot task", "Завдання зі знешкодження ВНП"),
    "form.eore": ("Explosive ordnance risk education session", "Заняття з навчання ризикам ВНП"),
    "form.accident": ("Accident and victims", "Нещасний випадок і постраждалі"),
    "form.qa": ("Quality assurance visit", "Візит контролю якості"),
    "section.activity": ("The work", "Роботи"),
    "section.hazard": ("New hazardous area", "Нова небезпечна ділянка"),
    "section.cancelled": ("Areas cancelled", "Скасовані ділянки"),
    "section.reduced": ("Areas reduced", "Зменшені ділянки"),
    "section.cleared": ("Areas cleared", "Очищені ділянки"),
    "section.find": ("Explosive ordnance found", "Виявлені вибухонебезпечні предмети"),
    "section.session": ("Session", "Заняття"),
    "section.accident": ("The accident", "Нещасний випадок"),
    "section.victim": ("Victims (personal data)", "Постраждалі (персональні дані)"),
    "geo.point": ("Location", "Місцезнаходження"),
    "geo.shape": ("Boundary (walk or tap the corners)", "Межа (обійдіть або позначте кути)"),
    "geo.route": ("Access route or safe lane", "Маршрут доступу або безпечний прохід"),
    "photo": ("Photo", "Фото"),
    "hint.hazard_id": (
        "The national id, like {example}; leave empty if the hazard is new",
        "Національний ідентифікатор, напр. {example}; залиште порожнім, якщо ділянка нова",
    ),
    "hint.hazard_id_required": ("The national id, like {example}", "Національний ідентифікатор, напр. {example}"),
    "hint.personal": (
        "Personal data: restricted, seen only by reviewers",
        "Персональні дані: доступ обмежено, бачать лише рецензенти",
    ),
    "msg.required": ("This answer is required", "Це обов'язкова відповідь"),
    "msg.future": ("The date cannot be in the future", "Дата не може бути в майбутньому"),
    "msg.not_negative": ("Must be 0 or more", "Має бути 0 або більше"),
    "msg.end_after_start": ("Cannot be before the start date", "Не може бути раніше дати початку"),
    "msg.area": (
        "The area must be between 1 m² and 1,000 km²: check the corners",
        "Площа має бути від 1 м² до 1000 км²: перевірте кути",
    ),
    "msg.id": ("An id like {example}", "Ідентифікатор на зразок {example}"),
}


def _both(pair: tuple[str, str]) -> dict[str, str]:
    return {"en": pair[0], "uk": pair[1]}


def field_label(layer: str, name: str, english: str) -> dict[str, str]:
    """The label of a schema field in every language (English from the schema itself)."""
    uk = _LAYER_FIELDS_UK.get((layer, name)) or _FIELDS_UK.get(name) or _beneficiaries_uk(name) or english
    return {"en": english, "uk": uk}


def _beneficiaries_uk(name: str) -> str | None:
    sex, _, band = name.partition("_")
    if sex in _SEX_UK and band in _BAND_UK:
        return f"Бенефіціари: {_SEX_UK[sex]}, {_BAND_UK[band]}"
    return None


def choice_label(code: str) -> dict[str, str]:
    """A vocabulary code's label (the code itself where none is known, so a new code still shows)."""
    return _both(CHOICES[code]) if code in CHOICES else {"en": code, "uk": code}


def ordnance_label(name: str) -> dict[str, str]:
    return {"en": name, "uk": ORDNANCE_UK.get(name, name)}


def phrase(key: str, **values: str) -> dict[str, str]:
    """A phrase of the forms in every language, with ``{placeholders}`` filled."""
    en, uk = PHRASES[key]
    return {"en": en.format(**values), "uk": uk.format(**values)}
