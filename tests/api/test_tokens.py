"""Bearer tokens: random, stored only as a SHA-256 hash, tied to a person of the directory, revocable
(from the command line, while the API runs: refused from the next request on)."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy import select

from steward.store.models import ApiToken, Resident, Staff
from steward.tokens import UnknownSubject, create_token, resolve_token, revoke_token
from tests.api.conftest import Api
from tests.conftest import Database
from workers.cli import main
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


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize(("role", "table"), [(Role.resident, Resident), (Role.staff, Staff),
                                             (Role.supervisor, Staff)])
def test_a_token_of_a_person_deactivated_in_the_directory_resolves_to_nobody(
    database: Database, role: Role, table: type,
) -> None:
    person_id = f"{'R' if table is Resident else 'S'}T{uuid.uuid4().hex[:6].upper()}"
    with database.sessions.begin() as session:
        if table is Resident:
            session.add(Resident(id=person_id, household_id="H-B1-101", name="Leaving", phone=None,
                                 locale="en", preferred_channel="sms"))
        else:
            session.add(Staff(id=person_id, name="Leaving", tier=2 if role is Role.supervisor else 0,
                              skills=[], buildings=["B1"], on_duty=False, phone=None, locale="en"))
    token = create_token(database.sessions, role, person_id)
    assert resolve_token(database.sessions, token) == Actor(id=person_id, role=role)
    with database.sessions.begin() as session:
        session.get(table, person_id).active = False
    assert resolve_token(database.sessions, token) is None


def test_an_admin_token_needs_no_directory_entry(sqlite_database: Database) -> None:
    token = create_token(sqlite_database.sessions, Role.admin, "ops-lead")
    assert resolve_token(sqlite_database.sessions, token) == Actor(id="ops-lead", role=Role.admin)



# --- revoked while the API runs -------------------------------------------------------------------


@pytest.fixture
def steward(api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path):
    """`steward(*args)` → (exit code, stdout, stderr): the command line an operator runs beside the
    API, on the API's database through an engine of its own."""
    monkeypatch.setenv("STEWARD_DATABASE_URL", api.database.url)
    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_revoked_from_the_command_line_is_refused_at_its_very_next_request(
    api: Api, steward,
) -> None:
    """Used (so whatever the API remembers of it is warm), revoked, refused on the next request."""
    code, printed, _ = steward("token", "create", "--role", "staff", "--subject", "S003")
    assert code == 0
    token = printed.strip()
    for _ in range(3):
        assert (await api.http.get("/requests", headers=bearer(token))).status_code == 200

    assert steward("token", "revoke", token)[:2] == (0, "revoked 1 token\n")
    refused = await api.http.get("/requests", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    acting = await api.http.post("/requests/RP-ANY/progress", json={"note": "still here"},
                                 headers=bearer(token))
    assert acting.status_code == 401
    code, _, error = steward("token", "revoke", token)
    assert code == 1 and error.startswith("error: no live token")


async def test_revoking_a_person_refuses_every_token_they_hold_and_no_one_elses(api: Api, steward) -> None:
    subject = f"ops-{uuid.uuid4().hex[:8]}"
    laptop, phone = (steward("token", "create", "--role", "admin", "--subject", subject)[1].strip()
                     for _ in range(2))
    for held in (laptop, phone):
        assert (await api.http.get("/buildings", headers=bearer(held))).status_code == 200

    assert steward("token", "revoke", "--subject", subject)[:2] == (0, "revoked 2 tokens\n")
    for held in (laptop, phone):
        assert (await api.http.get("/buildings", headers=bearer(held))).status_code == 401
    assert (await api.call("admin", "GET", "/buildings")).status_code == 200
