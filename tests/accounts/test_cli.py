"""``landrelease user add`` and ``user list`` on every backend (``--db`` a file or a postgresql:// URL)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from landrelease.accounts.users import user_of_token
from landrelease.cli import app

from .conftest import Backend

runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_user_add_then_list(backend: Backend) -> None:
    code, out, err = run(
        "--db", backend.location, "user", "add", "olena", "--role", "operator", "--org", "HALO Trust",
        "--password-stdin", stdin="correct horse battery\n",
    )  # fmt: skip
    assert code == 0, err
    assert "added olena, operator of HALO Trust; password set" in err
    token = out.strip().splitlines()[-1]
    accounts = backend.open()
    try:
        found = user_of_token(accounts, token)
        assert found is not None and found.name == "olena"
        assert accounts.password_hash("olena") is not None
    finally:
        accounts.close()
    assert run("--db", backend.location, "user", "add", "petro", "--role", "viewer")[0] == 0

    code, out, err = run("--db", backend.location, "user", "list")
    assert code == 0, err
    assert [line.split() for line in out.splitlines()] == [
        ["olena", "operator", "HALO", "Trust"],
        ["petro", "viewer", "-"],
    ]
    assert "2 users" in err
    code, out, _ = run("--db", backend.location, "user", "list", "--json")
    listed = json.loads(out)
    assert [(u["name"], u["role"], u["organisation"]) for u in listed] == [
        ("olena", "operator", "HALO Trust"),
        ("petro", "viewer", None),
    ]


def test_user_add_mistakes_are_one_line(backend: Backend) -> None:
    assert run("--db", backend.location, "user", "add", "olena", "--role", "viewer")[0] == 0
    for args, expected in (
        (("olena", "--role", "admin"), "a user called 'olena' already exists"),
        (("petro", "--role", "operator"), "an operator works for an organisation"),
        (("petro", "--role", "chief"), "--role takes viewer, operator, reviewer, admin"),
    ):
        code, out, err = run("--db", backend.location, "user", "add", *args)
        assert code != 0 and out == ""
        assert expected in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err
    assert [line.split() for line in run("--db", backend.location, "user", "list")[1].splitlines()] == [
        ["olena", "viewer", "-"]
    ]
