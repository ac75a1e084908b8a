"""Sign-in by phone number and SMS code, through HTTP and the real Twilio client against the sandbox,
on SQLite and PostgreSQL: the code read from the sandbox buys a token of the person's role; wrong,
used, expired and over-tried codes are refused; an unknown phone is answered exactly as a known one;
the limits answer 429; app tokens expire and are revoked like any other."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from steward.limits import RateLimited
from steward.sign_in import (
    CODE_LIFETIME,
    CODES_PER_ADDRESS,
    CODES_PER_PHONE,
    MAX_TRIES,
    CodeRefused,
    exchange_code,
    request_code,
)
from steward.store.models import Staff
from steward.tokens import create_token, revoke_subject
from tests.api.conftest import Api
from workflows.contracts import Role

PHONES = {"S001": "+8613900000001", "S002": "+8613900000002", "S003": "+8613900000003",
          "S004": "+8613900000004", "S005": "+8613900000005", "S201": "+8613900000201",
          "R001": "+8613800000101"}
UNKNOWN = "+8613700000999"
WAIT_S = 10.0


@pytest.fixture
async def api(running_api, dev_env, database) -> AsyncIterator[Api]:
    async with running_api(dev_env, database) as running:
        yield running


async def texted_code(api: Api, phone: str, after: int = 0) -> str:
    """The code in the newest sign-in text to `phone` in the sandbox, once more than `after` arrived."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    async with httpx.AsyncClient(base_url=api.settings.twilio_base_url) as sandbox:
        while True:
            messages = [m for m in (await sandbox.get("/sandbox/messages", params={"to": phone})).json()
                        if "sign-in code" in m["body"] or "登录验证码" in m["body"]]
            if len(messages) > after:
                return re.search(r"\b(\d{6})\b", messages[-1]["body"]).group(1)
            assert asyncio.get_running_loop().time() < deadline, f"no sign-in code texted to {phone}"
            await asyncio.sleep(0.1)


async def sign_in_texts(api: Api, phone: str) -> int:
    async with httpx.AsyncClient(base_url=api.settings.twilio_base_url) as sandbox:
        messages = (await sandbox.get("/sandbox/messages", params={"to": phone})).json()
    return sum("sign-in code" in m["body"] or "登录验证码" in m["body"] for m in messages)


async def ask(api: Api, phone: str) -> httpx.Response:
    return await api.http.post("/auth/code", json={"phone": phone})


async def trade(api: Api, phone: str, code: str) -> httpx.Response:
    return await api.http.post("/auth/token", json={"phone": phone, "code": code})


@pytest.mark.parametrize(("person", "role", "allowed"), [
    ("S001", "staff", "/at-risk"), ("S201", "supervisor", "/reports/sla"), ("R001", "resident", "/requests"),
])
async def test_a_person_signs_in_with_the_code_texted_to_them_and_gets_a_token_of_their_role(
        api: Api, person: str, role: str, allowed: str) -> None:
    phone = PHONES[person]
    before = await sign_in_texts(api, phone)
    response = await ask(api, phone)
    assert response.status_code == 202, response.text
    code = await texted_code(api, phone, after=before)

    response = await trade(api, phone, code)
    assert response.status_code == 200, response.text
    signed_in = response.json()
    assert (signed_in["role"], signed_in["subject"]) == (role, person)
    auth = {"Authorization": f"Bearer {signed_in['token']}"}
    assert (await api.http.get(allowed, headers=auth)).status_code == 200
    if role != "supervisor":
        assert (await api.http.get("/reports/sla", headers=auth)).status_code == 403

    again = await trade(api, phone, code)
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_code", again.text


async def test_a_wrong_code_is_refused_and_five_wrong_tries_use_the_code_up(api: Api) -> None:
    phone = PHONES["S002"]
    before = await sign_in_texts(api, phone)
    assert (await ask(api, phone)).status_code == 202
    code = await texted_code(api, phone, after=before)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(MAX_TRIES):
        response = await trade(api, phone, wrong)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == {
            "code": "invalid_code", "message": "this code is wrong or no longer valid: ask for a new one"}
    refused = await trade(api, phone, code)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_code"


async def test_a_new_code_replaces_the_one_before(api: Api) -> None:
    phone = PHONES["S003"]
    before = await sign_in_texts(api, phone)
    assert (await ask(api, phone)).status_code == 202
    first = await texted_code(api, phone, after=before)
    assert (await ask(api, phone)).status_code == 202
    second = await texted_code(api, phone, after=before + 1)
    if first != second:
        assert (await trade(api, phone, first)).status_code == 400
    assert (await trade(api, phone, second)).status_code == 200


async def test_an_unknown_phone_gets_the_same_answer_as_a_known_one_and_no_text(api: Api) -> None:
    known, unknown = await ask(api, PHONES["S004"]), await ask(api, UNKNOWN)
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (
        202, {"sent": True, "expires_in_s": int(CODE_LIFETIME.total_seconds())})
    await texted_code(api, PHONES["S004"])
    assert await sign_in_texts(api, UNKNOWN) == 0
    refused = await trade(api, UNKNOWN, "123456")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_code"


async def test_the_code_endpoint_answers_429_past_its_limit_per_phone(api: Api) -> None:
    phone = f"+86137{datetime.now(UTC).strftime('%H%M%S%f')[:8]}"  # a phone no other test asks for
    for _ in range(CODES_PER_PHONE.count):
        assert (await ask(api, phone)).status_code == 202
    refused = await ask(api, phone)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0


def test_codes_from_one_client_address_are_limited_whatever_the_phone(database) -> None:
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    address = f"198.51.100.{database.backend == 'postgresql' and 2 or 1}"
    with database.sessions.begin() as session:
        for n in range(CODES_PER_ADDRESS.count):
            request_code(session, f"+86136{n:08d}", address, now)
    with pytest.raises(RateLimited), database.sessions.begin() as session:
        request_code(session, "+8613611111111", address, now)


def test_a_code_expires_after_five_minutes(database) -> None:
    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    with database.sessions.begin() as session:
        sent = request_code(session, PHONES["S005"], "203.0.113.5", now)
    assert sent is not None
    with pytest.raises(CodeRefused), database.sessions.begin() as session:
        exchange_code(session, sent.phone, sent.code, "203.0.113.5", now + CODE_LIFETIME, timedelta(days=30))
    with database.sessions.begin() as session:
        signed_in = exchange_code(session, sent.phone, sent.code, "203.0.113.5",
                                  now + CODE_LIFETIME - timedelta(seconds=1), timedelta(days=30))
    assert signed_in.subject == "S005"


async def test_an_app_token_expires_and_is_revoked_like_any_other(api: Api) -> None:
    expired = create_token(api.database.sessions, Role.staff, "S004", lifetime=timedelta(0))
    response = await api.http.get("/at-risk", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401, response.text

    phone = PHONES["S001"]
    before = await sign_in_texts(api, phone)
    assert (await ask(api, phone)).status_code == 202
    token = (await trade(api, phone, await texted_code(api, phone, after=before))).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (await api.http.get("/at-risk", headers=auth)).status_code == 200
    assert revoke_subject(api.database.sessions, "S001") >= 1
    assert (await api.http.get("/at-risk", headers=auth)).status_code == 401


def test_a_person_who_left_gets_no_code(database) -> None:
    """A staff member deactivated in the directory is nobody to sign-in: no code is made (the answer
    over HTTP is the same as for any unknown phone), so no token can be had with their phone."""
    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    phone = "+8613655500001" if database.backend == "sqlite" else "+8613655500002"
    with database.sessions.begin() as session:
        session.add(Staff(id=f"SLEFT{database.backend[:2]}", name="Left Us", tier=0, skills=["plumbing"],
                          buildings=["B1"], on_duty=False, phone=phone, locale="en", active=False))
    with database.sessions.begin() as session:
        assert request_code(session, phone, "203.0.113.9", now) is None
    with database.sessions.begin() as session:
        session.get(Staff, f"SLEFT{database.backend[:2]}").active = True
    with database.sessions.begin() as session:
        assert request_code(session, phone, "203.0.113.9", now) is not None
