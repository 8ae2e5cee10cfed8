"""The accounts contract (``landrelease.accounts.Accounts``): users, tokens, sessions, the access log and
submissions behave the same on every backend. Only the protocol (and ``accounts.users``) is used, except
to look at what is really stored for a secret; a new backend is tested by adding it to conftest.BACKENDS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from landrelease.accounts import Accounts
from landrelease.accounts.credentials import digest
from landrelease.accounts.protocol import Submission
from landrelease.accounts.users import authenticate, create_user, open_session, user_of_session, user_of_token
from landrelease.domain.roles import Role
from landrelease.errors import Conflict, InvalidInput, NotFound

from .conftest import Backend

T = TypeVar("T")
PASSWORD = "correct horse battery"
SUBMITTED, APPROVED, REJECTED = "submitted", "approved", "rejected"


def payload(name: str = "Поле біля Ізюма «північ»") -> dict[str, Any]:
    """A report as ``review.prepare`` keeps it: keys in their order, text beyond ASCII, nested GeoJSON."""
    return {
        "layer": "hazards",
        "attributes": {"name": name, "status": "active", "hazard_class": "CHA", "estimated_m2": 1234.5},
        "geometry": {"type": "Polygon", "coordinates": [[[37.0, 49.0], [37.01, 49.0], [37.01, 49.01], [37.0, 49.0]]]},
        "target_id": None,
        "target_version": None,
    }


def together(workers: int, task: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``task(i)`` in ``workers`` threads released at the same moment; results or raised errors, in order."""
    start = threading.Barrier(workers)

    def run(i: int) -> T | BaseException:
        start.wait()
        try:
            return task(i)
        except Exception as error:
            return error

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, range(workers)))


# --- users ----------------------------------------------------------------------------------------------------


def test_add_user_then_find_them(accounts: Accounts) -> None:
    before = datetime.now(UTC)
    added = accounts.add_user("olena", Role.OPERATOR, "HALO Trust", None)
    assert added.name == "olena" and added.role is Role.OPERATOR and added.organisation == "HALO Trust"
    assert added.created_at.tzinfo is not None and added.created_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) <= added.created_at <= datetime.now(UTC) + timedelta(seconds=5)
    assert accounts.user("olena") == added
    accounts.add_user("Ärzte", Role.VIEWER, None, None)
    accounts.add_user("admin", Role.ADMIN, None, None)
    accounts.add_user("Zoë", Role.REVIEWER, None, None)
    # Sorted by name, byte by byte (capitals first, then the rest, letters beyond ASCII last).
    assert [u.name for u in accounts.users()] == ["Zoë", "admin", "olena", "Ärzte"]
    assert accounts.user("Ärzte").organisation is None


def test_a_name_is_taken_once_and_an_unknown_name_is_not_found(accounts: Accounts) -> None:
    accounts.add_user("olena", Role.VIEWER, None, None)
    with pytest.raises(InvalidInput, match="a user called 'olena' already exists"):
        accounts.add_user("olena", Role.ADMIN, None, None)
    assert accounts.user("olena").role is Role.VIEWER
    with pytest.raises(NotFound, match="no user called 'nobody'"):
        accounts.user("nobody")
    with pytest.raises(NotFound):
        accounts.user("olena\x00")
    assert accounts.password_hash("nobody") is None


def test_two_servers_adding_the_same_name_at_once_one_wins(backend: Backend) -> None:
    opened = [backend.open() for _ in range(4)]
    try:
        results = together(4, lambda i: opened[i].add_user("olena", Role.VIEWER, f"org {i}", None))
    finally:
        for accounts in opened:
            accounts.close()
    assert sum(not isinstance(r, BaseException) for r in results) == 1, results
    assert all(isinstance(r, InvalidInput) for r in results if isinstance(r, BaseException)), results


def test_passwords_and_tokens_are_stored_hashed_and_sign_in_works(accounts: Accounts, backend: Backend) -> None:
    user, token = create_user(accounts, "olena", Role.REVIEWER, None, PASSWORD)
    stored = accounts.password_hash("olena")
    assert stored is not None and stored.startswith("scrypt$") and PASSWORD not in stored
    assert authenticate(accounts, "olena", PASSWORD) == user
    assert authenticate(accounts, "olena", "wrong password") is None
    assert authenticate(accounts, "nobody", PASSWORD) is None
    assert user_of_token(accounts, token) == user
    assert accounts.user_by_token(token) is None  # the token itself is no key: only its digest is kept
    assert user_of_token(accounts, token + "x") is None
    tokens = backend.rows("lr_tokens")
    assert len(tokens) == 1 and digest(token) in tokens[0] and not any(token in str(v) for v in tokens[0])
    assert not any(PASSWORD in str(v) for row in backend.rows("lr_users") for v in row)


def test_token_only_users_have_no_password(accounts: Accounts) -> None:
    create_user(accounts, "svc-export", Role.VIEWER)
    assert accounts.password_hash("svc-export") is None
    assert authenticate(accounts, "svc-export", "") is None


def test_several_tokens_per_user(accounts: Accounts) -> None:
    user = accounts.add_user("olena", Role.VIEWER, None, None)
    accounts.add_token("olena", digest("first"), "laptop")
    accounts.add_token("olena", digest("second"), "QGIS")
    assert accounts.user_by_token(digest("first")) == user == accounts.user_by_token(digest("second"))
    assert accounts.user_by_token(digest("third")) is None
    assert accounts.user_by_token("bad\x00hash") is None


def test_credentials_of_no_one_are_refused(accounts: Accounts) -> None:
    with pytest.raises(NotFound, match="no user called 'ghost'"):
        accounts.add_token("ghost", digest("t"), "label")
    with pytest.raises(NotFound, match="no user called 'ghost'"):
        accounts.add_session(digest("s"), "ghost", datetime.now(UTC) + timedelta(hours=1))
    assert accounts.user_by_token(digest("t")) is None


# --- sessions ---------------------------------------------------------------------------------------------


def test_a_session_lasts_until_it_expires_or_ends(accounts: Accounts, backend: Backend) -> None:
    user = accounts.add_user("olena", Role.VIEWER, None, None)
    session, seconds = open_session(accounts, user)
    assert seconds == 12 * 3600
    assert user_of_session(accounts, session) == user
    assert not any(session in str(v) for row in backend.rows("lr_sessions") for v in row)
    now = datetime.now(UTC)
    assert accounts.user_by_session(digest(session), now + timedelta(hours=11)) == user
    assert accounts.user_by_session(digest(session), now + timedelta(hours=13)) is None
    accounts.end_session(digest(session))
    assert user_of_session(accounts, session) is None
    accounts.end_session(digest(session))  # ending it twice is harmless
    assert accounts.user_by_session("bad\x00hash", now) is None


def test_expired_sessions_are_cleared_when_a_new_one_starts(accounts: Accounts, backend: Backend) -> None:
    accounts.add_user("olena", Role.VIEWER, None, None)
    past = datetime.now(UTC) - timedelta(minutes=1)
    accounts.add_session(digest("old"), "olena", past)
    assert accounts.user_by_session(digest("old"), past - timedelta(minutes=1)) is not None
    accounts.add_session(digest("new"), "olena", datetime.now(UTC) + timedelta(hours=1))
    assert len(backend.rows("lr_sessions")) == 1
    assert accounts.user_by_session(digest("old"), past - timedelta(minutes=1)) is None


# --- the access log ------------------------------------------------------------------------------------------


def test_the_access_log_keeps_who_saw_which_personal_record(accounts: Accounts) -> None:
    accounts.log_access("reviewer", [], "nothing shown")
    assert accounts.access_log() == []
    before = datetime.now(UTC) - timedelta(seconds=5)
    accounts.log_access("reviewer", ["VC-000001", "VC-000002"], "GET /api/victims")
    accounts.log_access("admin", ["VC-000002"], "export victims")
    log = accounts.access_log()
    assert [(e.user, e.record_id, e.purpose) for e in log] == [
        ("reviewer", "VC-000001", "GET /api/victims"),
        ("reviewer", "VC-000002", "GET /api/victims"),
        ("admin", "VC-000002", "export victims"),
    ]
    assert log[0].at == log[1].at  # one read, one moment
    assert all(before <= e.at <= datetime.now(UTC) + timedelta(seconds=5) and e.at.tzinfo for e in log)
    assert [e.user for e in accounts.access_log("VC-000002")] == ["reviewer", "admin"]
    assert accounts.access_log("VC-000099") == []
    assert accounts.access_log("VC\x00") == []


# --- submissions ------------------------------------------------------------------------------------------


def test_submissions_are_numbered_and_kept_as_submitted(accounts: Accounts) -> None:
    first = accounts.add_submission("hazards", payload(), "HALO Trust", "olena", SUBMITTED)
    second = accounts.add_submission("finds", {"layer": "finds", "attributes": {}}, None, "petro", SUBMITTED)
    assert (first.id, second.id) == ("SB-000001", "SB-000002")
    assert first.payload == payload() and list(first.payload) == list(payload())
    assert list(first.payload["attributes"]) == ["name", "status", "hazard_class", "estimated_m2"]
    assert first.layer == "hazards" and first.organisation == "HALO Trust" and first.author == "olena"
    assert first.status == SUBMITTED and first.reason is None and first.decided_at is None
    assert first.decided_by is None and first.record_id is None and first.record_version is None
    assert first.created_at.utcoffset() == timedelta(0)
    assert accounts.submission("SB-000001") == first
    with pytest.raises(NotFound, match="no submission 'SB-000099'"):
        accounts.submission("SB-000099")
    with pytest.raises(NotFound):
        accounts.submission("SB-000001\x00")


def test_a_payload_comes_back_exactly(accounts: Accounts) -> None:
    odd = {
        "attributes": {
            "name": 'nul \x00 tab \t quote " backslash \\ emoji \U0001f4a3 apostrophe \u2019',
            "big": 2**62,
            "small": 1e-7,
            "float": 0.1,
            "whole": 3.0,
            "flag": False,
            "none": None,
        },
        "layer": "finds",
        "linked_reports": {"accident_id": "SB-000001"},
    }
    kept = accounts.add_submission("finds", odd, None, "olena", SUBMITTED)
    back = accounts.submission(kept.id).payload
    assert back == odd and list(back) == list(odd) and list(back["attributes"]) == list(odd["attributes"])
    assert isinstance(back["attributes"]["whole"], float) and isinstance(back["attributes"]["big"], int)


def test_submissions_newest_first_filtered_and_paged(accounts: Accounts) -> None:
    made = [
        accounts.add_submission("hazards", payload(f"H{i}"), org, author, SUBMITTED)
        for i, (org, author) in enumerate(
            [("Org A", "a1"), ("Org A", "a2"), ("Org B", "b1"), (None, "solo"), ("Org A", "a1")]
        )
    ]
    ids = [s.id for s in made]
    assert [s.id for s in accounts.submissions()] == ids[::-1]
    assert [s.id for s in accounts.submissions(organisation="Org A")] == [ids[4], ids[1], ids[0]]
    assert [s.id for s in accounts.submissions(author="a1")] == [ids[4], ids[0]]
    assert [s.id for s in accounts.submissions(organisation="Org A", author="a2")] == [ids[1]]
    accounts.decide(ids[1], SUBMITTED, REJECTED, "reviewer", "duplicate of SB-000001")
    assert [s.id for s in accounts.submissions(status=SUBMITTED)] == [ids[4], ids[3], ids[2], ids[0]]
    assert [s.id for s in accounts.submissions(organisation="Org A", status=REJECTED)] == [ids[1]]
    assert [s.id for s in accounts.submissions(limit=2)] == [ids[4], ids[3]]
    assert [s.id for s in accounts.submissions(limit=2, offset=3)] == [ids[1], ids[0]]
    assert accounts.submissions(offset=5) == []
    assert accounts.submissions(organisation="Org C") == []
    assert accounts.submissions(author="a1\x00") == []


def test_a_decision_is_taken_once(accounts: Accounts) -> None:
    report = accounts.add_submission("hazards", payload(), "Org A", "olena", SUBMITTED)
    before = datetime.now(UTC) - timedelta(seconds=5)
    approved = accounts.decide(report.id, SUBMITTED, APPROVED, "reviewer", "checked on site", "HZ-000007", 3)
    assert approved.status == APPROVED and approved.decided_by == "reviewer" and approved.reason == "checked on site"
    assert (approved.record_id, approved.record_version) == ("HZ-000007", 3)
    assert approved.decided_at is not None and before <= approved.decided_at <= datetime.now(UTC) + timedelta(seconds=5)
    assert approved.payload == report.payload and approved.created_at == report.created_at
    assert accounts.submission(report.id) == approved
    with pytest.raises(Conflict, match="SB-000001 is already approved: someone else decided it"):
        accounts.decide(report.id, SUBMITTED, REJECTED, "reviewer2", "no")
    assert accounts.submission(report.id) == approved
    with pytest.raises(NotFound, match="no submission 'SB-000042'"):
        accounts.decide("SB-000042", SUBMITTED, APPROVED, "reviewer", None)


def test_a_rejection_keeps_no_record(accounts: Accounts) -> None:
    report = accounts.add_submission("finds", payload(), "Org A", "olena", SUBMITTED)
    rejected = accounts.decide(report.id, SUBMITTED, REJECTED, "reviewer", "no location given")
    assert rejected.status == REJECTED and rejected.record_id is None and rejected.record_version is None


def test_two_reviewers_deciding_the_same_report_at_once_one_wins(backend: Backend) -> None:
    """Each reviewer on a connection of their own (as two servers would be); many reports, all raced."""
    reviewers = [backend.open() for _ in range(2)]
    try:
        reports = [reviewers[0].add_submission("hazards", payload(f"H{i}"), "Org A", "o", SUBMITTED) for i in range(12)]
        outcome = (APPROVED, REJECTED)
        for report in reports:

            def decide(i: int, report_id: str = report.id) -> Submission:
                return reviewers[i].decide(report_id, SUBMITTED, outcome[i], f"reviewer{i}", "decided", f"HZ-0{i}", 1)

            results = together(2, decide)
            won = [r for r in results if not isinstance(r, BaseException)]
            lost = [r for r in results if isinstance(r, BaseException)]
            assert len(won) == 1 and len(lost) == 1, results
            assert isinstance(lost[0], Conflict), lost
            final = reviewers[1].submission(report.id)
            assert final == won[0]
            assert final.decided_by is not None and final.status == outcome[int(final.decided_by[-1])]
    finally:
        for accounts in reviewers:
            accounts.close()


def test_reports_sent_at_once_from_several_servers_get_distinct_ids(backend: Backend) -> None:
    servers = [backend.open() for _ in range(4)]
    try:
        results = together(
            4, lambda i: [servers[i].add_submission("finds", payload(), None, f"o{i}", SUBMITTED).id for _ in range(5)]
        )
    finally:
        for accounts in servers:
            accounts.close()
    ids = [i for chunk in results if isinstance(chunk, list) for i in chunk]
    assert len(ids) == len(set(ids)) == 20, results
    assert sorted(ids) == [f"SB-{n:06d}" for n in range(1, 21)]


def test_the_accounts_are_shared_by_every_opening(backend: Backend) -> None:
    first = backend.open()
    first.add_user("olena", Role.VIEWER, None, None)
    first.add_submission("hazards", payload(), None, "olena", SUBMITTED)
    first.close()
    with pytest.raises(Exception, match="closed"):
        first.users()
    second = backend.open()
    try:
        assert [u.name for u in second.users()] == ["olena"]
        assert second.submission("SB-000001").author == "olena"
    finally:
        second.close()


def test_a_report_is_held_by_one_decision_at_a_time(backend: Backend) -> None:
    first, second = backend.open(), backend.open()
    try:
        report = first.add_submission("hazards", payload(), "Org A", "o", SUBMITTED)
        other = first.add_submission("hazards", payload(), "Org A", "o", SUBMITTED)
        with first.deciding(report.id):
            for accounts in (second, first):  # another server, or another thread of this one
                with (
                    pytest.raises(Conflict, match="SB-000001 is being decided by someone else"),
                    accounts.deciding(report.id),
                ):
                    pass
            with second.deciding(other.id):  # other reports are free
                pass
            first.decide(report.id, SUBMITTED, APPROVED, "reviewer", "ok", "HZ-000001", 1)
        with second.deciding(report.id):  # released on leaving
            pass
        with pytest.raises(RuntimeError, match="the record write failed"), second.deciding(other.id):
            raise RuntimeError("the record write failed")
        with first.deciding(other.id):  # released when the approval fails too
            pass
        assert first.submission(other.id).status == SUBMITTED
    finally:
        first.close()
        second.close()


def test_a_draft_or_rejected_report_is_revised_once(accounts: Accounts) -> None:
    draft = accounts.add_submission("hazards", payload(), "HALO Trust", "olena", "draft")
    revised = accounts.revise(draft.id, "draft", payload("Поле біля Балаклії"), SUBMITTED)
    assert revised.status == SUBMITTED and revised.payload == payload("Поле біля Балаклії")
    assert revised.author == "olena" and revised.created_at == draft.created_at
    with pytest.raises(Conflict, match="is submitted now, not draft"):
        accounts.revise(draft.id, "draft", payload(), SUBMITTED)
    rejected = accounts.decide(draft.id, SUBMITTED, REJECTED, "ivan", "the polygon is the district")
    back = accounts.revise(rejected.id, REJECTED, payload("corrected"), SUBMITTED)
    assert back.status == SUBMITTED and back.payload["attributes"]["name"] == "corrected"
    assert back.reason == "the polygon is the district"  # the last decision stays until the next one
    with pytest.raises(NotFound):
        accounts.revise("SB-000099", "draft", payload(), SUBMITTED)
    # Two editors submitting the same draft at once: one wins.
    other = accounts.add_submission("hazards", payload(), "HALO Trust", "olena", "draft")
    outcomes = together(2, lambda _i: accounts.revise(other.id, "draft", payload(), SUBMITTED))
    assert sum(1 for o in outcomes if isinstance(o, Submission)) == 1
    assert sum(1 for o in outcomes if isinstance(o, Conflict)) == 1
