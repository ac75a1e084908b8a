"""Opaque page tokens for the lists read from SQL, tied to the filters they continue.

A token is the last row's sort key as JSON with a short digest of it and the filters, so a token
edited by hand or sent with other filters is refused with 422 instead of answering a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from api.errors import ApiError

Key = TypeVar("Key", bound=BaseModel)
_CHECK_BYTES = 8


def _check(scope: str, body: bytes) -> bytes:
    return hashlib.sha256(scope.encode() + b"\0" + body).digest()[:_CHECK_BYTES]


def encode(scope: str, key: BaseModel | None) -> str | None:
    if key is None:
        return None
    body = key.model_dump_json().encode()
    return base64.urlsafe_b64encode(_check(scope, body) + body).decode()


def decode(scope: str, token: str | None, model: type[Key]) -> Key | None:
    if not token:
        return None
    try:
        data = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
        check, body = data[:_CHECK_BYTES], data[_CHECK_BYTES:]
        if body and check == _check(scope, body):
            return model.model_validate(json.loads(body))
    except (binascii.Error, ValueError, UnicodeEncodeError, ValidationError):
        pass
    raise ApiError(422, "page_token is not one this API gave out for these filters")


def scope_of(name: str, filters: dict[str, object]) -> str:
    return name + "?" + "&".join(f"{k}={v}" for k, v in sorted(filters.items()) if v is not None)
