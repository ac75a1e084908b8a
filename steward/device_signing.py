"""How a device signs what it sends Steward: HMAC-SHA256 of `"{timestamp}.{body}"` under its own key,
in hex. Shared by the webhook that checks it and the sandbox that plays devices."""

from __future__ import annotations

import hashlib
import hmac


def signature_of(key: str, timestamp: str, body: bytes) -> str:
    return hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
