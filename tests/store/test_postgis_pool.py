"""The PostGIS store's connection pool: calls run side by side in the database instead of queuing behind one
connection, every pooled connection has the store's settings, the pool's size comes from the environment,
a lost server is still a one-line error (and the store works again when the server is back), and closing
leaves no thread behind.

Concurrency is shown by order, never by time: a call blocked inside the database (on a lock another session
holds) must not stop the others from finishing before that lock is released.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from shapely.geometry import box

from landrelease.domain.records import Change, NewFeature
from landrelease.errors import StoreError
from landrelease.store import open_store

from .conftest import PostGISDatabase

psycopg = pytest.importorskip("psycopg")
pytest.importorskip("psycopg_pool")

from landrelease.store.postgis import pool  # noqa: E402  (needs psycopg_pool)
from landrelease.store.postgis.store import PostGISStore  # noqa: E402

ANNA = Change("anna", "national survey 2024", datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
#: A bound on how long a test waits for a thread, so a regression fails instead of hanging: never asserted.
PATIENCE = 30.0


@pytest.fixture
def url(postgis_database: PostGISDatabase) -> Iterator[str]:
    """A fresh schema holding an empty landrelease database."""
    made = postgis_database.fresh_schema()
    open_store(made, create=True).close()
    yield made
    postgis_database.drop_schema(made)


def _hazards(count: int) -> list[NewFeature]:
    return [
        NewFeature(
            {"name": f"H{i}", "hazard_class": "SHA", "status": "active", "reported_date": "2024-02-03"},
            box(22 + i * 0.001, 44, 22.0005 + i * 0.001, 44.0005),
        )
        for i in range(count)
    ]


def _waiting_on_a_lock(url: str, count: int) -> None:
    """Wait until ``count`` of the database's landrelease sessions are blocked on a lock in the server."""
    deadline = time.monotonic() + PATIENCE
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'landrelease' AND wait_event_type = 'Lock'"
            ).fetchone()
            if row is not None and row[0] >= count:
                return
            assert time.monotonic() < deadline, f"{count} calls never reached the database's lock"
            time.sleep(0.01)


class _Calls:
    """Calls made in threads, each noting in ``order`` when it finished."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def start(self, name: str, call: Callable[[], object]) -> threading.Thread:
        def run() -> None:
            try:
                call()
            except BaseException as error:
                self.errors.append(error)
            self.order.append(name)

        thread = threading.Thread(target=run, name=name)
        thread.start()
        self.threads.append(thread)
        return thread

    def join(self) -> None:
        for thread in self.threads:
            thread.join(PATIENCE)
        assert not any(t.is_alive() for t in self.threads), "a call never finished"
        assert not self.errors, self.errors


def test_reads_and_writes_go_on_while_a_write_waits_in_the_database(url: str) -> None:
    """One write blocked on a row lock held elsewhere; a read, a write of another record and a read of the
    blocked layer all finish before the lock is released (with one shared connection they queued behind the
    blocked write, and this test would see them finish after it)."""
    with open_store(url) as store:
        hot, other = store.add("hazards", _hazards(2), ANNA)
        calls = _Calls()
        with psycopg.connect(url) as holder:  # another program editing the hot hazard, its transaction open
            holder.execute("SELECT 1 FROM hazards WHERE id = %s FOR UPDATE", (hot,))
            calls.start("blocked write", lambda: store.update(hot, ANNA, {"name": "renamed"}))
            _waiting_on_a_lock(url, 1)  # the update is inside the database, holding a connection
            for name, call in {
                "read": lambda: store.get(other),
                "count": lambda: store.count("hazards"),
                "other write": lambda: store.update(other, ANNA, {"name": "also renamed"}),
            }.items():
                calls.start(name, call).join(PATIENCE)
            calls.order.append("lock released")
            holder.rollback()
        calls.join()
        assert calls.order == ["read", "count", "other write", "lock released", "blocked write"]
        assert store.get(hot).attributes["name"] == "renamed" and store.get(hot).version == 2
        assert store.get(other).version == 2


def test_two_slow_reads_overlap_in_the_database(url: str) -> None:
    """Two reads each blocked inside the server (a table lock held elsewhere) at the same time: both are
    seen waiting there together, on two sessions, before the lock is released."""
    with open_store(url) as store:
        store.add("hazards", _hazards(3), ANNA)
        calls = _Calls()
        with psycopg.connect(url) as holder:
            holder.execute("LOCK TABLE hazards IN ACCESS EXCLUSIVE MODE")
            calls.start("page", lambda: store.page("hazards", limit=10))
            calls.start("columns", lambda: store.columns("hazards", ["name"]))
            _waiting_on_a_lock(url, 2)  # both reads in the server at once
            calls.order.append("lock released")
            holder.rollback()
        calls.join()
        assert calls.order[0] == "lock released" and sorted(calls.order[1:]) == ["columns", "page"]


def test_every_pooled_connection_has_the_stores_settings(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three threads hold three connections at once (a barrier they can only pass together): each reads
    dates as ISO text, in UTC, on a session of its own."""
    monkeypatch.setenv(pool.MAX_VARIABLE, "3")
    with PostGISStore.open(url) as store:
        assert store._pool.sizes == (1, 3)
        together = threading.Barrier(3, timeout=PATIENCE)
        seen: list[tuple[Any, ...]] = []

        def look() -> None:
            with store._reading() as conn:
                row = conn.execute(
                    "SELECT pg_backend_pid(), DATE '2024-02-03', current_setting('TimeZone'), "
                    "current_setting('DateStyle'), now()::text"
                ).fetchone()
                assert row is not None
                seen.append(tuple(row))
                together.wait()  # all three connections are out of the pool now

        calls = _Calls()
        for i in range(3):
            calls.start(f"look {i}", look)
        calls.join()
    assert len({row[0] for row in seen}) == 3  # three sessions
    for _pid, day, zone, style, now in seen:
        assert (day, zone, style) == ("2024-02-03", "UTC", "ISO, YMD")
        assert now.endswith("+00")


def test_the_pool_never_holds_more_connections_than_allowed(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With at most two connections, four calls blocked in the server: two wait there, two wait for a
    connection; all four finish once the lock goes, and the server never saw more than two sessions."""
    monkeypatch.setenv(pool.MAX_VARIABLE, "2")
    with open_store(url) as store:
        store.add("hazards", _hazards(1), ANNA)
        calls = _Calls()
        with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as watcher:
            holder.execute("LOCK TABLE hazards IN ACCESS EXCLUSIVE MODE")
            for i in range(4):
                calls.start(f"count {i}", lambda: store.count("hazards"))
            _waiting_on_a_lock(url, 2)
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'landrelease'"
            ).fetchone()
            assert row is not None and row[0] == 2
            assert len(calls.order) == 0
            holder.rollback()
        calls.join()
        assert len(calls.order) == 4


def test_a_report_being_decided_stays_held_while_the_pool_serves_other_calls(url: str) -> None:
    """The hold is a session-level advisory lock: it stays on its own session while many calls go through
    the pool meanwhile, another server is refused it, and it is gone from the server on leaving."""
    from landrelease.accounts import open_accounts
    from landrelease.errors import Conflict
    from landrelease.store.postgis import accounts as module

    first, second = open_accounts(url), open_accounts(url)
    holders = (
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objsubid = 2 "
        "AND objid::bigint = (hashtext(%s)::bigint & 4294967295)"
    )
    try:
        report = first.add_submission("hazards", {"attributes": {}}, "Org A", "olena", "submitted")
        with psycopg.connect(url, autocommit=True) as watcher:
            with first.deciding(report.id):
                calls = _Calls()
                for i in range(20):
                    calls.start(f"read {i}", lambda: first.submissions(limit=5))
                calls.join()
                held = [r[0] for r in watcher.execute(holders, (module._DECIDING, report.id))]
                assert isinstance(first, module.PostGISAccounts) and first._holds is not None
                assert held == [first._holds.info.backend_pid]  # the holds' own session, not a pooled one
                with pytest.raises(Conflict, match="is being decided by someone else"), second.deciding(report.id):
                    pass
                first.decide(report.id, "submitted", "approved", "ivan", "ok", "HZ-000001", 1)
            assert watcher.execute(holders, (module._DECIDING, report.id)).fetchall() == []
        with second.deciding(report.id):
            pass
    finally:
        first.close()
        second.close()


class _Relay:
    """A TCP relay on loopback in front of the PostgreSQL server: stopping it is the server going away
    (connections refused, sessions cut), starting it again is the server coming back."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._sockets: set[socket.socket] = set()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.05)
        self._stop.clear()
        self._spawn(self._accept, listener)

    def stop(self) -> None:
        self._stop.set()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._sockets.clear()
        for thread in self._threads:
            thread.join(PATIENCE)
        self._threads.clear()

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while not self._stop.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                server = socket.create_connection(self.upstream)
                self._sockets |= {client, server}
                self._spawn(self._pump, client, server)
                self._spawn(self._pump, server, client)

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def relay(url: str) -> Iterator[tuple[_Relay, str]]:
    """A relay to the test server, and the database's URL through it."""
    parts = urlsplit(url)
    if parts.hostname is None:
        pytest.skip("the test server is reached through a socket file, not TCP")
    relayed = _Relay((parts.hostname, parts.port or 5432))
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{relayed.port}" if userinfo else f"127.0.0.1:{relayed.port}"
    relayed.start()
    yield relayed, urlunsplit(parts._replace(netloc=netloc))
    relayed.stop()


def test_a_lost_server_is_one_line_and_the_store_works_again_when_it_is_back(
    relay: tuple[_Relay, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    relayed, through = relay
    monkeypatch.setattr(pool, "WAIT", 5.0)  # bounds the test should a call wait instead of failing
    with open_store(through) as store:
        (record,) = store.add("hazards", _hazards(1), ANNA)
        relayed.stop()  # the server goes away: the pooled session is cut, new connections are refused
        failures = []
        for call in (lambda: store.get(record), lambda: store.count("hazards"), lambda: store.get(record)):
            with pytest.raises(StoreError) as caught:
                call()
            failures.append(str(caught.value))
        for message in failures:
            assert "\n" not in message
            assert message.startswith(f"{store.location}: the connection to the database failed (")
        assert any("refused" in m for m in failures[1:]), failures  # the reason, not a timeout
        relayed.start()  # back: the pool reconnects on its own
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                assert store.get(record).id == record
                break
            except StoreError:
                assert time.monotonic() < deadline, "the store never came back"
                time.sleep(0.1)
        assert store.count("hazards") == 1


def test_opening_makes_one_connection_and_the_first_read_uses_it(url: str) -> None:
    """The schema is checked on the pool's first connection: a command opening the store for one job
    connects once, as it did with one connection."""
    with PostGISStore.open(url) as store:
        store.count("hazards")
        assert store._pool.stats()["connections_num"] == 1


def test_closing_the_store_leaves_no_thread_behind(url: str) -> None:
    before = set(threading.enumerate())
    store = open_store(url)
    store.count("hazards")
    started = set(threading.enumerate()) - before
    assert started  # the pool's own threads
    store.close()
    for thread in started:
        thread.join(PATIENCE)
    assert not any(t.is_alive() for t in started)
    with pytest.raises(StoreError, match="is closed"):
        store.count("hazards")


def test_a_command_on_postgis_exits_cleanly(url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "landrelease", "--db", url, "report", "land-release", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert '"totals"' in done.stdout


@pytest.mark.parametrize(
    ("environment", "sizes"),
    [
        ({}, (1, 10)),
        ({pool.MAX_VARIABLE: "25"}, (1, 25)),
        ({pool.MIN_VARIABLE: "4"}, (4, 10)),
        ({pool.MIN_VARIABLE: "12"}, (12, 12)),
        ({pool.MIN_VARIABLE: "0", pool.MAX_VARIABLE: "1"}, (0, 1)),
        ({pool.MIN_VARIABLE: " ", pool.MAX_VARIABLE: ""}, (1, 10)),
    ],
)
def test_pool_sizes_come_from_the_environment(environment: dict[str, str], sizes: tuple[int, int]) -> None:
    assert pool.sizes(environment) == sizes


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({pool.MAX_VARIABLE: "0"}, "LANDRELEASE_PG_POOL_MAX must be a whole number of connections from 1 up, not '0'"),
        ({pool.MAX_VARIABLE: "ten"}, "LANDRELEASE_PG_POOL_MAX must be a whole number of connections from 1 up"),
        ({pool.MIN_VARIABLE: "-1"}, "LANDRELEASE_PG_POOL_MIN must be a whole number of connections from 0 up"),
        ({pool.MIN_VARIABLE: "5", pool.MAX_VARIABLE: "2"}, r"LANDRELEASE_PG_POOL_MIN \(5\) is more than"),
    ],
)
def test_wrong_pool_sizes_are_refused_in_one_line(environment: dict[str, str], message: str) -> None:
    with pytest.raises(StoreError, match=message):
        pool.sizes(environment)


def test_a_wrong_pool_size_is_refused_before_connecting(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pool.MAX_VARIABLE, "many")
    with pytest.raises(StoreError, match="LANDRELEASE_PG_POOL_MAX must be a whole number"):
        open_store(url)
