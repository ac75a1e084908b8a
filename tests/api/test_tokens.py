"""Bearer tokens: random, stored only as a SHA-256 hash, tied to a person of the directory, revocable."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from steward.store.models import ApiToken
from steward.tokens import UnknownSubject, create_token, resolve_token, revoke_token
from tests.conftest import Database
from workflows.contracts import Actor, Role


def test_a_token_names_its_person_and_is_kept_only_as_a_hash(sqlite_database: Database) -> None:
    token = create_token(sqlite_database.sessions, Role.staff, "S001")
    assert resolve_token(sqlite_database.sessions, token) == Actor(id="S001", role=Role.staff)
    with sqlite_database.sessions() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.subject == "S001")).all()[-1]
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.token_hash, row.subject, row.role)
    assert create_token(sqlite_database.sessions, Role.staff, "S001") != token


def test_a_revoked_or_unknown_token_resolves_to_nobody(sqlite_database: Database) -> None:
    token = create_token(sqlite_database.sessions, Role.resident, "R001")
    assert revoke_token(sqlite_database.sessions, token) is True
    assert resolve_token(sqlite_database.sessions, token) is None
    assert revoke_token(sqlite_database.sessions, token) is False
    assert resolve_token(sqlite_database.sessions, "stw_never-issued") is None


@pytest.mark.parametrize(("role", "subject"), [
    (Role.resident, "S001"), (Role.staff, "R001"), (Role.supervisor, "S999"), (Role.system, "steward"),
])
def test_a_token_is_only_for_a_person_of_the_directory_in_that_role(
    sqlite_database: Database, role: Role, subject: str,
) -> None:
    with pytest.raises(UnknownSubject):
        create_token(sqlite_database.sessions, role, subject)


def test_an_admin_token_needs_no_directory_entry(sqlite_database: Database) -> None:
    token = create_token(sqlite_database.sessions, Role.admin, "ops-lead")
    assert resolve_token(sqlite_database.sessions, token) == Actor(id="ops-lead", role=Role.admin)
