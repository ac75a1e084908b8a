"""How every process reaches Temporal: mTLS and API keys (through a TLS-terminating proxy in front of the
dev server, so the server side is real), Temporal's own profiles, and search attributes a server will not
let us add."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from steward.settings import Settings
from steward.temporal import (
    SearchAttributesMissing,
    check_search_attributes,
    connect,
    register_search_attributes,
    resolve,
)
from tests.steward.tls_proxy import SERVER_NAME, Pki, TlsProxy, make_pki
from workflows import search

API_KEY = "steward-cloud-key-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def target(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


@pytest.fixture
async def mtls_proxy(dev_env: WorkflowEnvironment, pki: Pki) -> AsyncIterator[TlsProxy]:
    async with TlsProxy(target(dev_env), pki, require_client_cert=True) as proxy:
        yield proxy


@pytest.fixture
async def tls_proxy(dev_env: WorkflowEnvironment, pki: Pki) -> AsyncIterator[TlsProxy]:
    async with TlsProxy(target(dev_env), pki, require_client_cert=False) as proxy:
        yield proxy


async def reachable(client: Client) -> None:
    """A real round trip through the proxy to the server."""
    await client.count_workflows()


async def test_mtls_with_the_ca_and_a_client_certificate(mtls_proxy: TlsProxy, pki: Pki) -> None:
    settings = Settings(_env_file=None, temporal_address=mtls_proxy.address, temporal_tls_ca=pki.ca,
                        temporal_tls_cert=pki.client_cert, temporal_tls_key=pki.client_key,
                        temporal_tls_server_name=SERVER_NAME)
    await reachable(await connect(settings))
    assert mtls_proxy.client_subjects and set(mtls_proxy.client_subjects) == {"steward-worker"}


async def test_mtls_refuses_a_client_without_a_certificate(mtls_proxy: TlsProxy, pki: Pki) -> None:
    settings = Settings(_env_file=None, temporal_address=mtls_proxy.address, temporal_tls_ca=pki.ca,
                        temporal_tls_server_name=SERVER_NAME)
    with pytest.raises((RuntimeError, RPCError)):
        await asyncio.wait_for(reachable(await connect(settings)), 20)
    assert mtls_proxy.headers == []  # no request got through


async def test_an_unknown_server_certificate_is_refused(tls_proxy: TlsProxy) -> None:
    """TLS on, but without our CA: the proxy's certificate is not trusted."""
    settings = Settings(_env_file=None, temporal_address=tls_proxy.address, temporal_tls=True,
                        temporal_tls_server_name=SERVER_NAME)
    with pytest.raises((RuntimeError, RPCError)):
        await asyncio.wait_for(reachable(await connect(settings)), 20)


async def test_the_api_key_reaches_the_server_as_bearer_metadata(tls_proxy: TlsProxy, pki: Pki) -> None:
    settings = Settings(_env_file=None, temporal_address=tls_proxy.address, temporal_api_key=API_KEY,
                        temporal_tls_ca=pki.ca, temporal_tls_server_name=SERVER_NAME)
    await reachable(await connect(settings))
    calls = [h for h in tls_proxy.headers if h.get(":path", "").endswith("/CountWorkflowExecutions")]
    assert calls and all(h.get("authorization") == f"Bearer {API_KEY}" for h in calls)


def profile_file(directory: Path, proxy: TlsProxy, pki: Pki) -> Path:
    path = directory / "temporal.toml"
    path.write_text(f"""
[profile.default]
address = "127.0.0.1:9"

[profile.staging]
address = "{proxy.address}"
namespace = "default"
api_key = "{API_KEY}"

[profile.staging.tls]
server_ca_cert_path = "{pki.ca}"
server_name = "{SERVER_NAME}"
""", encoding="utf-8")
    return path


async def test_a_temporal_profile_from_the_config_file_is_used_when_steward_sets_none(
    tls_proxy: TlsProxy, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = profile_file(tmp_path, tls_proxy, pki)
    environ = {"TEMPORAL_CONFIG_FILE": str(config), "TEMPORAL_PROFILE": "staging"}
    where = resolve(Settings(_env_file=None), environ=environ)
    assert (where.target, where.namespace, where.api_key) == (tls_proxy.address, "default", API_KEY)
    assert where.source == "TEMPORAL_* profile" and where.tls.domain == SERVER_NAME

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    await reachable(await connect(Settings(_env_file=None)))
    assert any(h.get("authorization") == f"Bearer {API_KEY}" for h in tls_proxy.headers)


def test_temporal_environment_variables_override_the_profile(tls_proxy: TlsProxy, pki: Pki,
                                                             tmp_path: Path) -> None:
    environ = {"TEMPORAL_CONFIG_FILE": str(profile_file(tmp_path, tls_proxy, pki)),
               "TEMPORAL_PROFILE": "staging", "TEMPORAL_NAMESPACE": "tenant.a1b2",
               "TEMPORAL_ADDRESS": "tenant.a1b2.tmprl.cloud:7233"}
    where = resolve(Settings(_env_file=None), environ=environ)
    assert (where.target, where.namespace) == ("tenant.a1b2.tmprl.cloud:7233", "tenant.a1b2")


def test_steward_settings_win_over_any_temporal_profile(tls_proxy: TlsProxy, pki: Pki,
                                                       tmp_path: Path) -> None:
    environ = {"TEMPORAL_CONFIG_FILE": str(profile_file(tmp_path, tls_proxy, pki)),
               "TEMPORAL_PROFILE": "staging", "TEMPORAL_API_KEY": "not-ours"}
    where = resolve(Settings(_env_file=None, temporal_address="temporal.internal:7233"), environ=environ)
    assert (where.target, where.api_key, where.tls, where.source) == (
        "temporal.internal:7233", None, False, "STEWARD_TEMPORAL_*")


def test_without_any_configuration_the_local_dev_server_is_used() -> None:
    where = resolve(Settings(_env_file=None, temporal_port=7444),
                    environ={"TEMPORAL_CONFIG_FILE": "/nonexistent"})
    assert (where.target, where.namespace, where.tls, where.api_key, where.source) == (
        "127.0.0.1:7444", "default", False, None, "default")


async def test_missing_search_attributes_are_named_with_the_commands_that_create_them(
    dev_env: WorkflowEnvironment
) -> None:
    """A namespace nobody added our attributes to, as on Temporal Cloud before `tcld` is run."""
    namespace = f"bare-{uuid.uuid4().hex[:8]}"
    await dev_env.client.workflow_service.register_namespace(RegisterNamespaceRequest(
        namespace=namespace, workflow_execution_retention_period=timedelta(days=1)))
    bare = Client(dev_env.client.service_client, namespace=namespace)
    for _ in range(100):  # the new namespace reaches the frontend's cache within a few seconds
        try:
            await bare.count_workflows()
            break
        except RPCError:
            await asyncio.sleep(0.1)
    with pytest.raises(SearchAttributesMissing) as refused:
        await check_search_attributes(bare)
    message = str(refused.value)
    assert all(key.name in message for key in search.ALL)
    assert f"tcld namespace search-attributes add --namespace {namespace}" in message
    assert f"temporal operator search-attribute create --namespace {namespace}" in message
    await register_search_attributes(bare)  # a self-hosted server lets us add them (what the worker does)
    await check_search_attributes(bare)
