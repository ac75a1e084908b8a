"""The remote codec the Temporal UI and CLI call to show encrypted payloads in clear, to supervisors only.

Temporal's remote codec protocol: POST {endpoint}/encode and {endpoint}/decode with
`{"payloads": [{"metadata": {name: base64}, "data": base64}]}` and the namespace in `X-Namespace`.
The browser calls from the UI's origin, so these two paths (and only these) answer CORS for it. Without
STEWARD_PAYLOAD_KEYS nothing is sealed: clear payloads pass both ways, encrypted ones are refused.
"""

from __future__ import annotations

import base64
from typing import Annotated
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload

from api.auth import Supervisor
from api.errors import ApiError
from steward.codec import EncryptionCodec, PayloadKeyError
from steward.settings import Settings

router = APIRouter(prefix="/codec", tags=["codec"])
PREFIX = "/codec/"
MAX_PAYLOADS = 1000


class CodecPayload(BaseModel):
    """A Temporal payload in protobuf JSON: metadata values and data are base64."""

    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, str] = Field(default_factory=dict)
    data: str = ""


class CodecPayloads(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "IlIwMDEi"}]},
    ]})

    payloads: list[CodecPayload] = Field(max_length=MAX_PAYLOADS)


def _bytes(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as error:  # binascii.Error, or text with characters outside ASCII
        raise ApiError(400, f"{what} is not base64") from error


def _to_payload(item: CodecPayload) -> Payload:
    metadata = {name: _bytes(value, f"metadata {name!r}") for name, value in item.metadata.items()}
    return Payload(metadata=metadata, data=_bytes(item.data, "data"))


def _to_json(payload: Payload) -> CodecPayload:
    return CodecPayload(metadata={name: base64.b64encode(value).decode() for name, value in
                                  payload.metadata.items()}, data=base64.b64encode(payload.data).decode())


def _codec(request: Request, namespace: str | None) -> EncryptionCodec:
    served = request.app.state.client.namespace
    if namespace is not None and namespace != served:
        raise ApiError(400, f"this codec serves namespace {served!r}, not {namespace!r}")
    return EncryptionCodec(request.app.state.settings.encryption_keys or {})


NamespaceHeader = Annotated[str | None, Header(alias="X-Namespace")]


@router.post("/encode", response_model=CodecPayloads, summary="Encrypt payloads (Temporal remote codec)")
async def encode(body: CodecPayloads, request: Request, _actor: Supervisor,
                 x_namespace: NamespaceHeader = None) -> CodecPayloads:
    codec = _codec(request, x_namespace)
    sealed = await codec.encode([_to_payload(item) for item in body.payloads])
    return CodecPayloads(payloads=[_to_json(payload) for payload in sealed])


@router.post("/decode", response_model=CodecPayloads, summary="Decrypt payloads (Temporal remote codec)")
async def decode(body: CodecPayloads, request: Request, _actor: Supervisor,
                 x_namespace: NamespaceHeader = None) -> CodecPayloads:
    codec = _codec(request, x_namespace)
    try:
        opened = await codec.decode([_to_payload(item) for item in body.payloads])
    except PayloadKeyError as error:
        raise ApiError(400, str(error)) from error
    except (InvalidTag, ValueError) as error:
        raise ApiError(400, "an encrypted payload was altered or is not ours: it does not decrypt") from error
    return CodecPayloads(payloads=[_to_json(payload) for payload in opened])


def ui_origin(settings: Settings) -> str:
    """The origin the Temporal UI's browser calls from: the setting, else that of the UI's address."""
    parts = urlsplit(settings.codec_cors_origin or settings.temporal_ui)
    return f"{parts.scheme}://{parts.netloc}"


class CodecCors:
    """CORS for the Temporal UI's origin on the codec paths only; every other path is untouched."""

    def __init__(self, app: ASGIApp, origin: str) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=[origin], allow_methods=["POST"],
                                   allow_credentials=True,
                                   allow_headers=["Authorization", "Content-Type", "X-Namespace"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
