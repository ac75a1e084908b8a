"""Connecting to Temporal the one way every process does: where and how (TLS, mTLS, API key, from Temporal's
own environment configuration or STEWARD_TEMPORAL_*), the converter (pydantic, encrypted when payload keys
are set), our search attributes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client, Interceptor
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.envconfig import ClientConfigProfile
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from steward.codec import data_converter
from steward.settings import Settings
from workflows import search

_INDEXED = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
    SearchAttributeIndexedValueType.BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    SearchAttributeIndexedValueType.DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}
_CLI_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
}


# Setting any of these means Steward's own settings describe the connection; Temporal's profile is ignored.
_STEWARD_CONNECTION = frozenset({
    "temporal_address", "temporal_namespace", "temporal_api_key", "temporal_tls", "temporal_tls_ca",
    "temporal_tls_cert", "temporal_tls_key", "temporal_tls_server_name",
})
_REFUSED = (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED)


@dataclass(frozen=True)
class Connection:
    """Where and how to reach Temporal, resolved from settings or Temporal's environment configuration."""

    target: str
    namespace: str
    source: str  # "STEWARD_TEMPORAL_*", "TEMPORAL_* profile" or "default": named in error messages
    api_key: str | None = None
    tls: bool | TLSConfig = False
    rpc_metadata: Mapping[str, str] = field(default_factory=dict)


def _read(path) -> bytes | None:
    return path.read_bytes() if path else None


def resolve(settings: Settings, *, environ: Mapping[str, str] | None = None) -> Connection:
    """STEWARD_TEMPORAL_* when any is set, else the TEMPORAL_* environment and TEMPORAL_PROFILE of the
    config file (temporalio.envconfig), else the local dev server."""
    if _STEWARD_CONNECTION & settings.model_fields_set:
        key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
        files = (settings.temporal_tls_ca, settings.temporal_tls_cert, settings.temporal_tls_key)
        wanted = settings.temporal_tls if settings.temporal_tls is not None else bool(key or any(files))
        tls: bool | TLSConfig = False
        if wanted:
            tls = TLSConfig(server_root_ca_cert=_read(files[0]), client_cert=_read(files[1]),
                            client_private_key=_read(files[2]), domain=settings.temporal_tls_server_name)
        return Connection(settings.temporal_target, settings.temporal_namespace, "STEWARD_TEMPORAL_*",
                          key, tls)
    profile = ClientConfigProfile.load(override_env_vars=environ).to_client_connect_config()
    return Connection(
        target=profile.get("target_host") or settings.temporal_target,
        namespace=profile.get("namespace") or settings.temporal_namespace,
        source="TEMPORAL_* profile" if profile else "default",
        api_key=profile.get("api_key"), tls=profile.get("tls", False),
        rpc_metadata=profile.get("rpc_metadata", {}),
    )


async def connect(settings: Settings, *, runtime: Runtime | None = None,
                  interceptors: Sequence[Interceptor] = ()) -> Client:
    """The one client of a process; `runtime` and `interceptors` are for metrics and tracing."""
    where = resolve(settings)
    return await Client.connect(
        where.target, namespace=where.namespace, api_key=where.api_key, tls=where.tls,
        rpc_metadata=where.rpc_metadata, data_converter=data_converter(settings.encryption_keys),
        runtime=runtime, interceptors=interceptors,
    )


async def connect_when_serving(settings: Settings, within_s: float) -> Client:
    """`connect` to a server just started: its port opens before its frontend serves ("Frontend is
    not healthy yet"), so that answer is waited out, for at most `within_s`."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return await connect(settings)
        except RuntimeError as error:
            if "not healthy" not in str(error) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


def dev_server_flags() -> list[str]:
    """`--search-attribute Name=Type` flags so `temporal server start-dev` registers ours at start."""
    flags: list[str] = []
    for key in search.ALL:
        flags += ["--search-attribute", f"{key.name}={_CLI_TYPES[key.indexed_value_type]}"]
    return flags


class SearchAttributesMissing(RuntimeError):
    """The server will not let us add our search attributes (Temporal Cloud) and some are not there."""


async def register_search_attributes(client: Client) -> None:
    """Idempotently add our search attributes (the test servers start without them). Where the server
    refuses to add them (Temporal Cloud), check they exist and name the missing ones.

    The time-skipping test server cannot list search attributes; there every one is added.
    """
    try:
        present: set[str] | None = await _present(client)
    except RPCError as error:
        if error.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        present = None
    missing = {key.name: _INDEXED[key.indexed_value_type]
               for key in search.ALL if present is None or key.name not in present}
    if not missing:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    except RPCError as error:
        if error.status not in _REFUSED or present is None:
            raise
        await check_search_attributes(client)  # added meanwhile by an operator, or it names what is missing


async def check_search_attributes(client: Client) -> None:
    """Fail with a clear message when any of our search attributes is missing from the namespace."""
    present = await _present(client)
    missing = sorted(key.name for key in search.ALL if key.name not in present)
    if missing:
        raise SearchAttributesMissing(missing_message(client.namespace, missing))


async def _present(client: Client) -> set[str]:
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    return set(existing.custom_attributes)


def missing_message(namespace: str, names: list[str]) -> str:
    types = {key.name: _CLI_TYPES[key.indexed_value_type] for key in search.ALL}
    cli = " ".join(f"--name {name} --type {types[name]}" for name in names)
    return (f"the Temporal server refused to add Steward's search attributes and namespace {namespace!r} "
            f"lacks {', '.join(names)}. Create them once, on Temporal Cloud with "
            f"`tcld namespace search-attributes add --namespace {namespace} "
            + " ".join(f"--sa '{name}={types[name]}'" for name in names)
            + f"`, on a self-hosted server with `temporal operator search-attribute create --namespace "
            f"{namespace} {cli}`")
