"""The remote codec the Temporal UI calls: supervisors only, round trips, key rotation, clear refusals,
CORS for the UI's origin alone."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from steward.codec import new_key_line
from tests.api.conftest import Api
from tests.conftest import Database

OLD, NEW = new_key_line("k1"), new_key_line("k2")
UI = "http://temporal-ui.example:8233"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


PLAIN = {"metadata": {"encoding": b64(b"json/plain")}, "data": b64(b'{"phone":"+8613800000101"}')}


@pytest.fixture
async def codec_api(running_api, dev_env: WorkflowEnvironment,
                    sqlite_database: Database) -> AsyncIterator[Api]:
    async with running_api(dev_env, sqlite_database, payload_keys=f"{NEW},{OLD}", temporal_ui_url=UI) as api:
        yield api


async def coded(api: Api, action: str, payloads: list[dict], who: str = "supervisor", **headers: str):
    return await api.call(who, "POST", f"/codec/{action}", {"payloads": payloads}, headers=headers)


async def test_a_supervisor_encodes_and_decodes_and_the_data_is_sealed(codec_api: Api) -> None:
    encoded = await coded(codec_api, "encode", [PLAIN], **{"X-Namespace": "default"})
    assert encoded.status_code == 200, encoded.text
    [sealed] = encoded.json()["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    assert base64.b64decode(sealed["metadata"]["encryption-key-id"]) == b"k2"  # the first key encrypts
    assert b"+8613800000101" not in base64.b64decode(sealed["data"])
    decoded = await coded(codec_api, "decode", [sealed, PLAIN])  # clear payloads pass through
    assert decoded.status_code == 200, decoded.text
    assert decoded.json()["payloads"] == [PLAIN, PLAIN]


async def test_keys_rotate_what_an_old_key_sealed_still_decodes(
    running_api, dev_env: WorkflowEnvironment, sqlite_database: Database
) -> None:
    async with running_api(dev_env, sqlite_database, payload_keys=OLD) as before:
        [sealed] = (await coded(before, "encode", [PLAIN])).json()["payloads"]
        assert base64.b64decode(sealed["metadata"]["encryption-key-id"]) == b"k1"
    async with running_api(dev_env, sqlite_database, payload_keys=f"{NEW},{OLD}") as after:
        assert (await coded(after, "decode", [sealed])).json()["payloads"] == [PLAIN]
    async with running_api(dev_env, sqlite_database, payload_keys=NEW) as retired:
        refused = await coded(retired, "decode", [sealed])
        assert refused.status_code == 400 and "'k1'" in refused.json()["error"]["message"], refused.text


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("resident", 403), ("staff", 403), ("admin", 403)])
async def test_only_supervisors_may_use_the_codec(codec_api: Api, who: str | None, status: int) -> None:
    for action in ("encode", "decode"):
        response = await coded(codec_api, action, [PLAIN], who=who)
        assert response.status_code == status, response.text


async def test_bad_payloads_are_refused_with_a_clear_4xx(codec_api: Api) -> None:
    [sealed] = (await coded(codec_api, "encode", [PLAIN])).json()["payloads"]
    altered = sealed | {"data": b64(base64.b64decode(sealed["data"])[:-1] + b"\0")}
    cases = [
        ("decode", [altered], 400, "does not decrypt"),
        ("decode", [{"metadata": {"encoding": "%%%"}, "data": ""}], 400, "not base64"),
        ("encode", [{"data": "not base64!"}], 400, "not base64"),
        ("encode", [{"data": "\x92AAA"}], 400, "not base64"),  # outside ASCII (found by the OpenAPI fuzz)
        ("decode", [{"metadata": {}, "data": "", "extra": 1}], 422, None),
    ]
    for action, payloads, status, words in cases:
        response = await coded(codec_api, action, payloads)
        assert response.status_code == status, response.text
        assert words is None or words in response.json()["error"]["message"], response.text
    other = await coded(codec_api, "decode", [sealed], **{"X-Namespace": "elsewhere"})
    assert other.status_code == 400 and "'default'" in other.json()["error"]["message"], other.text


async def test_without_keys_clear_payloads_pass_and_sealed_ones_are_refused(
    running_api, codec_api: Api, dev_env: WorkflowEnvironment, sqlite_database: Database
) -> None:
    [sealed] = (await coded(codec_api, "encode", [PLAIN])).json()["payloads"]
    async with running_api(dev_env, sqlite_database) as api:
        for action in ("encode", "decode"):
            response = await coded(api, action, [PLAIN])
            assert response.status_code == 200 and response.json()["payloads"] == [PLAIN], response.text
        refused = await coded(api, "decode", [sealed])
        assert refused.status_code == 400 and "STEWARD_PAYLOAD_KEYS" in refused.json()["error"]["message"]


async def test_cors_admits_the_temporal_ui_origin_on_the_codec_paths_only(codec_api: Api) -> None:
    preflight = {"Origin": UI, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,x-namespace"}
    allowed = await codec_api.http.options("/codec/decode", headers=preflight)
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == UI
    stranger = await codec_api.http.options("/codec/decode",
                                            headers=preflight | {"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in stranger.headers
    call = await coded(codec_api, "decode", [PLAIN], Origin=UI)
    assert call.status_code == 200 and call.headers["access-control-allow-origin"] == UI
    elsewhere = await codec_api.call("supervisor", "GET", "/healthz", headers={"Origin": UI})
    assert "access-control-allow-origin" not in elsewhere.headers
