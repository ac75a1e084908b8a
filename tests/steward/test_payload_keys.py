"""STEWARD_PAYLOAD_KEYS: the first key seals, all open; a malformed list stops the process with a message
that names the key id and never echoes key material."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from steward.settings import Settings

KEY = base64.b64encode(b"k" * 32).decode()


@pytest.mark.parametrize(("text", "says"), [
    ("k1", "look like k2:<base64 key>"),
    (f":{KEY}", "look like k2:<base64 key>"),
    ("k1:%%%secret%%%", "'k1' is not base64"),
    (f"k1:{base64.b64encode(b'too short').decode()}", "'k1' must be 16, 24 or 32 bytes"),
    (f"k1:{KEY},k1:{KEY}", "'k1' is listed twice"),
])
def test_a_malformed_key_list_is_refused_by_name_without_the_key(text: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, payload_keys=text)
    assert says in str(refused.value)
    assert "secret" not in str(refused.value) and KEY not in str(refused.value)


def test_keys_keep_their_order_the_first_seals() -> None:
    other = base64.b64encode(b"o" * 16).decode()
    settings = Settings(_env_file=None, payload_keys=f" k2:{KEY} , k1:{other} ")
    assert list(settings.encryption_keys) == ["k2", "k1"]
    assert KEY not in repr(settings)
    assert Settings(_env_file=None).encryption_keys is None
    assert Settings(_env_file=None, payload_keys="").encryption_keys is None
