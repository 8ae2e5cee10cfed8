"""Reads from a streaming replica (``--read-db``), writes to the primary, and reading one's own writes.

The routing itself is tested on two GeoPackage files (no server needed); the real thing on a primary and a
streaming replica built with PostgreSQL's tools on loopback ports (``pg_cluster.py``), skipped with the reason
when the tools are missing and failed under CI (``CI`` set), as the PostGIS tests are.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point, box
from typer.testing import CliRunner

from landrelease.cli import app
from landrelease.domain.records import Change, NewFeature
from landrelease.errors import StoreError, StoreUnavailable
from landrelease.store import open_store
from landrelease.store.routing import RoutedStore, StickyAfterWrite
from tests.store import pg_cluster
from tests.store.conftest import PostGISDatabase, ReplicaKeepsUp

ANNA = Change("anna", "national survey 2024", datetime(2024, 5, 1, 9, 30, tzinfo=UTC))


def hazards(*names: str) -> list[NewFeature]:
    return [
        NewFeature({"name": name, "hazard_class": "SHA", "status": "active"}, box(i, 0, i + 1, 1))
        for i, name in enumerate(names)
    ]


# --- the routing, on two files -----------------------------------------------------------------------------


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[str, str]:
    """A "primary" file and a "replica" file copied from it before the primary got one more hazard: which
    one answers a read shows in the count."""
    primary, replica = str(tmp_path / "primary.gpkg"), str(tmp_path / "replica.gpkg")
    with open_store(primary, create=True) as store:
        store.add("hazards", hazards("north", "south"), ANNA)
    shutil.copy(primary, replica)
    with open_store(primary) as store:
        store.add("hazards", hazards("east"), ANNA)
    return primary, replica


def test_reads_go_to_the_replica_until_a_write_then_to_the_primary(two_files: tuple[str, str]) -> None:
    primary, replica = two_files
    with RoutedStore(open_store(primary), open_store(replica), StickyAfterWrite()) as store:
        assert store.count("hazards") == 2  # the replica's
        assert [f.attributes["name"] for f in store.features("hazards")] == ["north", "south"]
        assert store.reads == {"primary": 0, "replica": 2}
        assert store.location == primary and store.reads_from == replica

        (new,) = store.add("hazards", hazards("west"), ANNA)
        assert store.get(new).attributes["name"] == "west"  # read-your-writes: from the primary
        assert store.count("hazards") == 4
        assert store.reads == {"primary": 2, "replica": 2}
    with open_store(replica) as copy:
        assert copy.count("hazards") == 2  # nothing was written to the replica


def test_writes_never_reach_the_replica(two_files: tuple[str, str]) -> None:
    primary, replica = two_files
    with RoutedStore(open_store(primary), open_store(replica)) as store:
        first = store.get("HZ-000001")  # from the replica
        store.update(first.id, ANNA, {"name": "renamed"})
        store.set_derived("hazards", {first.id: {}})
        store.retire("HZ-000002", ANNA)
        assert store.get(first.id).attributes["name"] == "renamed"
        assert [v.version for v in store.history(first.id)] == [1, 2]
    with open_store(replica) as copy:
        assert copy.get("HZ-000001").attributes["name"] == "north"
        assert copy.count("hazards") == 2


class _PositionUnreadable:
    """A freshness whose primary cannot be asked its position after a write (its session lost for good)."""

    def written(self) -> None:
        raise StoreUnavailable("primary: the connection to the database failed (server closed the connection)")

    def fresh(self) -> bool:
        return True

    def lag(self) -> float | None:
        return 0.0

    def rejoin(self) -> None:
        return None

    def close(self) -> None:
        return None


def test_a_committed_write_stands_when_the_replica_position_cannot_be_noted(
    two_files: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """The write committed on the primary; only noting where the replica must reach failed. The write is
    not reported as failed (it would be made twice), and reads go to the primary, which has it."""
    primary, replica = two_files
    with RoutedStore(open_store(primary), open_store(replica), _PositionUnreadable()) as store:
        (new,) = store.add("hazards", hazards("west"), ANNA)
        assert store.bypassed and store.replica is None
        assert store.get(new).attributes["name"] == "west"
        assert store.count("hazards") == 4
        assert store.reads == {"primary": 2, "replica": 0}
        (warning,) = _warnings(caplog)
        assert warning.startswith("reads go to the primary while the read replica is unavailable (primary: ")


def test_read_db_needs_postgresql_for_both(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="--read-db needs PostgreSQL for both"):
        open_store(str(tmp_path / "a.gpkg"), read=str(tmp_path / "b.gpkg"))
    result = CliRunner().invoke(
        app, ["--db", str(tmp_path / "a.gpkg"), "--read-db", "postgresql://127.0.0.1:1/x", "report", "land-release"]
    )
    assert result.exit_code == 2
    assert "--read-db needs PostgreSQL for both" in result.stderr


def test_read_db_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDRELEASE_READ_DB", str(tmp_path / "b.gpkg"))
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "a.gpkg"), "report", "land-release"])
    assert result.exit_code == 2
    assert "--read-db needs PostgreSQL for both" in result.stderr


def test_a_read_db_that_is_not_replaying_gets_reads_from_the_primary_after_a_write(
    postgis_database: PostGISDatabase,
) -> None:
    url = postgis_database.fresh_schema()
    try:
        with open_store(url, create=True, read=url) as store:  # the same server: not a streaming replica
            assert isinstance(store, RoutedStore) and isinstance(store.freshness, StickyAfterWrite)
            assert store.count("hazards") == 0
            (new,) = store.add("hazards", hazards("north"), ANNA)
            assert store.get(new).attributes["name"] == "north"
            assert store.reads == {"primary": 1, "replica": 1}
    finally:
        postgis_database.drop_schema(url)


def test_a_read_on_its_way_when_the_replica_is_set_aside_is_answered_by_the_primary(
    postgis_database: PostGISDatabase,
) -> None:
    """Two reads on the replica at once; one finds it gone and closes it (its pool) while the other is on its
    way to it: the other is answered by the primary too, not failed with "the database ... is closed"."""
    from landrelease.errors import StoreUnavailable

    url = postgis_database.fresh_schema()
    try:
        with open_store(url, create=True) as primary:
            primary.add("hazards", hazards(*(f"h{i}" for i in range(2100))), ANNA)  # two pages of features
        with RoutedStore(open_store(url), open_store(url), ReplicaKeepsUp()) as store:
            link = store._link
            assert link is not None

            def after_another_read_lost_it(replica: Any) -> Any:
                store._lost(link, StoreUnavailable("the replica went away"))  # what the other read did
                return replica.count("hazards")

            assert store._read(after_another_read_lost_it) == 2100
            assert store.bypassed and store.reads == {"primary": 1, "replica": 0}

        with RoutedStore(open_store(url), open_store(url), ReplicaKeepsUp()) as store:
            listing = store.features("hazards")
            first = next(listing)  # the first page, from the replica
            link = store._link
            assert link is not None
            store._lost(link, StoreUnavailable("the replica went away"))  # noticed by another read meanwhile
            assert len([first, *listing]) == 2100  # the rest from the primary
    finally:
        postgis_database.drop_schema(url)


UNREACHABLE = "postgresql://postgres:secret@127.0.0.1:1/x"  # nothing listens on port 1


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "landrelease.store" and r.levelno >= logging.WARNING]


def test_an_unreachable_read_db_sends_reads_to_the_primary_with_one_warning(
    postgis_database: PostGISDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgis_database.fresh_schema()
    try:
        with open_store(url, create=True, read=UNREACHABLE) as store:
            assert isinstance(store, RoutedStore) and store.bypassed and store.replica is None
            assert store.reads_from == "postgresql://postgres@127.0.0.1:1/x"  # named, without its password
            (new,) = store.add("hazards", hazards("north"), ANNA)
            for _ in range(5):
                assert store.get(new).attributes["name"] == "north"
            assert store.count("hazards") == 1
            assert [f.id for f in store.features("hazards")] == [new]
            assert store.reads == {"primary": 7, "replica": 0}
        (warning,) = _warnings(caplog)  # one line, not one per read
        assert warning.startswith("reads go to the primary while the read replica is unavailable (cannot connect ")
        assert "127.0.0.1:1/x" in warning and "secret" not in warning and "\n" not in warning
        assert warning.endswith("trying it again every 30 s")
    finally:
        postgis_database.drop_schema(url)


def test_a_cli_given_an_unreachable_read_db_works_from_the_primary(postgis_database: PostGISDatabase) -> None:
    url = postgis_database.fresh_schema()
    try:
        with open_store(url, create=True) as primary:
            (hazard,) = primary.add("hazards", hazards("field by the road"), ANNA)
        runner = CliRunner()
        for command in (["report", "land-release", "--json"], ["history", hazard, "--json"]):
            result = runner.invoke(app, ["--db", url, "--read-db", UNREACHABLE, *command])
            assert result.exit_code == 0, result.stderr
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("warning: reads go to the primary while the read replica")
        assert json.loads(result.stdout)[0]["attributes"]["name"] == "field by the road"
    finally:
        postgis_database.drop_schema(url)


def test_the_service_given_an_unreachable_read_db_serves_from_the_primary(postgis_database: PostGISDatabase) -> None:
    from landrelease.accounts import open_accounts
    from landrelease.accounts.users import create_user
    from landrelease.service.app import create_app
    from landrelease.service.context import Role

    url = postgis_database.fresh_schema()
    try:
        with open_store(url, create=True) as primary:
            primary.add("hazards", hazards("north", "south"), ANNA)
        accounts = open_accounts(url)
        try:
            token = create_user(accounts, "viewer", Role.VIEWER, None, None)[1]
        finally:
            accounts.close()
        service = create_app(url, read_db=UNREACHABLE)
        with _test_client(service, token) as client:
            items = client.get("/ogc/collections/hazards/items")
            assert items.status_code == 200, items.text
            assert sorted(f["properties"]["name"] for f in items.json()["features"]) == ["north", "south"]
            assert client.get("/tiles/hazards/0/0/0.mvt").status_code in (200, 204)
            store = service.state.store
            assert isinstance(store, RoutedStore) and store.bypassed and store.reads["replica"] == 0
    finally:
        postgis_database.drop_schema(url)


def test_the_max_replica_lag_is_a_number_of_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDRELEASE_MAX_REPLICA_LAG", "soon")
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "a.gpkg"), "report", "land-release"])
    assert result.exit_code == 2
    assert "LANDRELEASE_MAX_REPLICA_LAG takes seconds" in result.stderr
    result = CliRunner().invoke(app, ["--max-replica-lag", "-1", "--db", str(tmp_path / "a.gpkg"), "check"])
    assert result.exit_code == 2


def _test_client(service: Any, token: str) -> Any:
    import warnings

    from starlette.exceptions import StarletteDeprecationWarning

    with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its TestClient; httpx is installed
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from fastapi.testclient import TestClient

    return TestClient(service, headers={"Authorization": f"Bearer {token}"})


# --- a real primary and streaming replica ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair() -> Iterator[pg_cluster.Pair]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason: str | None = "psycopg is not installed (pip install 'psycopg[binary]')"
    else:
        reason = pg_cluster.missing_tools()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"replica test cannot run under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    with pg_cluster.replicated_pair() as built:
        yield built


def _on(url: str, query: str) -> object:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.slow
def test_reads_are_served_by_the_replica_and_writes_reach_it(pair: pg_cluster.Pair) -> None:
    from landrelease.store.postgis.replication import ReplayPosition

    assert _on(pair.replica, "SELECT pg_is_in_recovery()") is True
    assert _on(pair.primary, "SELECT pg_is_in_recovery()") is False
    store = open_store(pair.primary, create=True, read=pair.replica)  # the schema reaches the replica by WAL
    try:
        assert isinstance(store, RoutedStore) and isinstance(store.freshness, ReplayPosition)
        ids = store.add("hazards", hazards("north", "south"), ANNA)
        assert [store.get(i).attributes["name"] for i in ids] == ["north", "south"]
        # Written through landrelease, visible on the replica itself:
        assert _on(pair.replica, "SELECT count(*) FROM hazards") == 2

        # Replay paused: another program's write reaches the primary but not the replica, so a read that does
        # not see it was served by the replica.
        _on(pair.replica, "SELECT pg_wal_replay_pause()::text")
        with open_store(pair.primary) as other:
            (theirs,) = other.add("hazards", hazards("east"), ANNA)
        before = store.reads
        assert store.count("hazards") == 2
        assert store.reads["replica"] == before["replica"] + 1

        # Our own write, replay still paused: the read after it waits briefly, then reads the primary.
        (ours,) = store.add("hazards", hazards("west"), ANNA)
        assert store.get(ours).attributes["name"] == "west"
        assert store.reads["primary"] == before["primary"] + 1

        # Replay resumed: the replica catches up, reads go back to it and see every write.
        _on(pair.replica, "SELECT pg_wal_replay_resume()::text")
        assert store.freshness is not None and store.freshness.fresh()
        assert store.get(theirs).attributes["name"] == "east"
        assert store.count("hazards") == 4
        assert store.reads["replica"] == before["replica"] + 3
        assert _on(pair.replica, "SELECT count(*) FROM hazards") == 4
    finally:
        store.close()


@pytest.mark.slow
def test_the_cli_and_service_read_from_the_replica(pair: pg_cluster.Pair) -> None:
    import warnings

    from starlette.exceptions import StarletteDeprecationWarning

    from landrelease.accounts import open_accounts
    from landrelease.accounts.users import create_user
    from landrelease.service.app import create_app
    from landrelease.service.context import Role

    with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its TestClient; httpx is installed
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from fastapi.testclient import TestClient

    runner = CliRunner()
    with open_store(pair.primary, create=True) as primary:
        (hazard,) = primary.add("hazards", hazards("field by the road"), ANNA)
        primary.add("finds", [NewFeature({"quantity": 2}, Point(0.5, 0.5))], ANNA)
        names = sorted(str(f.attributes["name"]) for f in primary.features("hazards"))  # the other test's too
    where = ["--db", pair.primary, "--read-db", pair.replica]
    shown = runner.invoke(app, [*where, "history", hazard, "--json"])
    assert shown.exit_code == 0, shown.stderr
    assert "field by the road" in shown.stdout
    report = runner.invoke(app, [*where, "report", "land-release", "--json"])
    assert report.exit_code == 0, report.stderr
    assert json.loads(report.stdout)["totals"]["hazards"] == len(names)

    # The service: users and sessions live on the primary, the map and listings are read from the replica.
    accounts = open_accounts(pair.primary)
    try:
        token = create_user(accounts, "viewer", Role.VIEWER, None, None)[1]
    finally:
        accounts.close()
    service = create_app(pair.primary, read_db=pair.replica)
    with TestClient(service, headers={"Authorization": f"Bearer {token}"}) as client:
        store = service.state.store
        assert isinstance(store, RoutedStore) and store.reads_from.endswith(pair.replica.rsplit("@", 1)[1])
        items = client.get("/ogc/collections/hazards/items")
        assert items.status_code == 200, items.text
        assert sorted(f["properties"]["name"] for f in items.json()["features"]) == names
        assert store.reads["replica"] >= 1 and store.reads["primary"] == 0

    # --db must name the primary: the replica cannot take writes.
    with pytest.raises(StoreError, match="read-only replica; --db must name the primary"):
        open_store(pair.replica, read=pair.replica)


def _until(condition: Any, what: str) -> None:
    """Wait for something the servers do in their own time (a restart, a reconnection); fail after a minute."""
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_a_replica_that_goes_down_is_bypassed_and_returned_to(
    pair: pg_cluster.Pair, caplog: pytest.LogCaptureFixture
) -> None:
    from landrelease.store.postgis.replication import open_replicated

    caplog.set_level(logging.INFO, "landrelease.store")
    with open_store(pair.primary, create=True) as primary:  # more than one page (2000 rows) of features
        primary.add("hazards", hazards(*(f"h{i}" for i in range(2500))), ANNA)
    store = open_replicated(pair.primary, pair.replica, retry_after=0.2)
    try:
        expected = [f.id for f in store.primary.features("hazards")]
        assert store.count("hazards") == len(expected) and store.reads == {"primary": 0, "replica": 1}

        listing = store.features("hazards")  # from the replica: its first page is read now
        first = next(listing)
        pair.stop_replica()
        try:
            # The listing's next page fails on the replica: the rest comes from the primary, none twice.
            assert [first.id, *(f.id for f in listing)] == expected
            assert store.bypassed and store.replica is None
            before = store.reads
            assert store.count("hazards") == len(expected)  # reads keep working, from the primary
            (written,) = store.add("hazards", hazards("added while the replica was down"), ANNA)
            assert store.get(written).attributes["name"] == "added while the replica was down"
            assert store.reads == {"primary": before["primary"] + 2, "replica": before["replica"]}
            (warning,) = _warnings(caplog)  # one line for the whole outage, however many reads and retries
            assert warning.startswith("reads go to the primary while the read replica is unavailable (")
        finally:
            pair.start_replica()

        # Back: the next read after the retry time reopens it in the background; reads return to it and
        # see the write made while it was down (read-your-writes across the outage).
        _until(lambda: (store.count("hazards"), not store.bypassed)[1], "reads to return to the replica")
        before = store.reads
        assert store.get(written).attributes["name"] == "added while the replica was down"
        assert store.reads["replica"] == before["replica"] + 1
        assert any("again: it is back" in r.getMessage() for r in caplog.records)
        assert len(_warnings(caplog)) == 1
    finally:
        pair.start_replica()
        store.close()


@pytest.mark.slow
def test_a_replica_far_behind_is_bypassed_until_it_catches_up(
    pair: pg_cluster.Pair, caplog: pytest.LogCaptureFixture
) -> None:
    from landrelease.store.postgis.replication import open_replicated

    store = open_replicated(pair.primary, pair.replica, create=True, max_lag=0.5, lag_check=0, retry_after=0)
    paused = False
    try:
        known = store.count("hazards")
        assert store.reads == {"primary": 0, "replica": 1}
        _on(pair.replica, "SELECT pg_wal_replay_pause()::text")
        paused = True
        with open_store(pair.primary) as other:  # another program's write the replica does not replay
            other.add("hazards", hazards("while replay is paused"), ANNA)
        assert store.count("hazards") == known  # just seen behind: not yet known to be far behind
        time.sleep(1.0)  # now over 0.5 s behind (the lag is a lower bound: it is at least this)
        assert store.count("hazards") == known + 1  # bypassed: from the primary
        assert store.count("hazards") == known + 1
        assert store.bypassed and store.reads == {"primary": 2, "replica": 2}
        (warning,) = _warnings(caplog)
        assert warning.startswith(f"reads go to the primary: the read replica {store.reads_from} is ")
        assert "behind it (more than 0.5 s)" in warning

        _on(pair.replica, "SELECT pg_wal_replay_resume()::text")
        paused = False
        _until(lambda: (store.count("hazards"), not store.bypassed)[1], "the replica to catch up")
        before = store.reads
        assert store.count("hazards") == known + 1  # from the replica, which now has it
        assert store.reads["replica"] == before["replica"] + 1
    finally:
        if paused:
            _on(pair.replica, "SELECT pg_wal_replay_resume()::text")
        store.close()


@pytest.mark.slow
def test_a_write_stands_when_the_wal_position_session_was_lost(pair: pg_cluster.Pair) -> None:
    """The primary ended the small session that reads its WAL positions (an idle timeout, an administrator,
    a restart the pool has already recovered from): a write through the store commits on a pooled connection
    and must not then be reported as failed (a user would write it again), and reads still see it."""
    from landrelease.store.postgis.replication import open_replicated

    store = open_replicated(pair.primary, pair.replica, create=True)
    try:
        before = store.count("hazards")
        ended = _on(
            pair.primary,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'landrelease-replication'",
        )
        assert ended == 1  # the position's session on the primary (the replica's is on the other server)
        (written,) = store.add("hazards", hazards("written after the session was lost"), ANNA)
        assert store.get(written).attributes["name"] == "written after the session was lost"
        assert store.count("hazards") == before + 1
        with open_store(pair.primary) as primary:
            assert primary.count("hazards") == before + 1  # written once
    finally:
        store.close()


def _gated_count(store: Any) -> int:
    """``count`` of hazards through the store's own pooled read, made to wait (advisory lock 7, held by the
    test on the replica) after it has taken its lock on the table: a long read, on cue."""
    with store._reading() as conn:
        row = conn.execute("SELECT count(*) FROM hazards, pg_advisory_lock_shared(7) AS gate").fetchone()
    return int(row[0])


@pytest.mark.slow
def test_a_read_the_replica_cancels_for_replay_is_answered_by_the_primary(pair: pg_cluster.Pair) -> None:
    """A hot standby cancels a read that holds up replaying the primary's changes ("conflict with recovery",
    SQLSTATE 40001): that is the replica failing the read, not another program writing the same records, so
    the read is answered by the primary instead of failing with "busy: ... try again"."""
    import threading

    import psycopg

    from landrelease.store.postgis.replication import open_replicated

    _settle(pair.replica, "ALTER SYSTEM SET max_standby_streaming_delay = 0", "0")  # cancel at once, not in 30 s
    store = open_replicated(pair.primary, pair.replica, create=True)
    try:
        expected = store.count("hazards")
        results: list[object] = []
        with psycopg.connect(pair.replica, autocommit=True) as gate:
            gate.execute("SELECT pg_advisory_lock(7)")
            reader = threading.Thread(target=lambda: results.append(_catching(lambda: store._read(_gated_count))))
            reader.start()
            _until(lambda: _on(pair.replica, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                "AND NOT granted") == 1, "the replica read to wait at its gate")  # fmt: skip
            with psycopg.connect(pair.primary) as primary:  # replayed on the replica: conflicts with the read
                primary.execute("LOCK TABLE hazards IN ACCESS EXCLUSIVE MODE")
            reader.join(60)
        assert results == [expected]
        assert store.reads["primary"] == 1
    finally:
        store.close()
        _settle(pair.replica, "ALTER SYSTEM RESET max_standby_streaming_delay", "30s")


def _settle(url: str, statement: str, shows: str) -> None:
    """An ``ALTER SYSTEM`` of ``max_standby_streaming_delay`` on the server at ``url``, in force (the setting
    ``shows``) once this returns."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)
        conn.execute("SELECT pg_reload_conf()")
    _until(lambda: _on(url, "SHOW max_standby_streaming_delay") == shows, statement)


def _catching(call: Any) -> object:
    try:
        return call()
    except Exception as error:
        return error
