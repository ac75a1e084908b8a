"""Encrypted payloads: residents' phone numbers and names never reach Temporal in clear.

Every payload is sealed with AES-GCM under the first configured key; the key's id rides in the payload's
metadata, so older keys still decrypt what they sealed while a new one takes over (rotation). Payloads
without our encoding (histories recorded before encryption) pass through decoding unchanged.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE = 12


class PayloadKeyError(ValueError):
    """The keys setting is malformed, or a payload names a key we do not hold."""


def parse_keys(text: str) -> dict[str, bytes]:
    """`k2:<base64>,k1:<base64>` → {id: key}, in order: the first encrypts, all decrypt."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id.strip():
            raise PayloadKeyError("payload keys look like k2:<base64 key>,k1:<base64 key>")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error as error:
            raise PayloadKeyError(f"payload key {key_id.strip()!r} is not base64") from error
        if len(key) not in (16, 24, 32):
            raise PayloadKeyError(f"payload key {key_id.strip()!r} must be 16, 24 or 32 bytes (32 advised)")
        if key_id.strip() in keys:
            raise PayloadKeyError(f"payload key {key_id.strip()!r} is listed twice")
        keys[key_id.strip()] = key
    if not keys:
        raise PayloadKeyError("no payload key given: use k1:<base64 of 32 random bytes>")
    return keys


def new_key_line(key_id: str = "k1") -> str:
    """One fresh 256-bit key in the settings format."""
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def dev_keys(path: Path) -> str:
    """The dev runner's keys: made on first run and kept, so histories stay readable across restarts."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new_key_line() + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


class EncryptionCodec(PayloadCodec):
    """AES-GCM over the whole serialised payload (its metadata included); the key id is authenticated."""

    def __init__(self, keys: dict[str, bytes]) -> None:
        """Without keys it seals nothing and opens only clear payloads (the codec endpoint of a
        deployment that does not encrypt)."""
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = next(iter(keys), None)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if self._current is None:
            return list(payloads)
        return [self._seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._open(payload) for payload in payloads]

    def _seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(_NONCE)
        key_id = self._current or ""
        sealed = self._keys[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed)

    def _open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        if key_id not in self._keys:
            raise PayloadKeyError(f"payload sealed with key {key_id!r}, which is not in STEWARD_PAYLOAD_KEYS")
        plain = self._keys[key_id].decrypt(payload.data[:_NONCE], payload.data[_NONCE:], key_id.encode())
        return Payload.FromString(plain)


def data_converter(keys: dict[str, bytes] | None) -> DataConverter:
    """The pydantic converter, sealed by the codec when keys are configured (failure messages and stack
    traces too, which may quote a resident's input)."""
    if not keys:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter, payload_codec=EncryptionCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
