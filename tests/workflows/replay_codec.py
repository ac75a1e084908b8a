"""The converter saved histories replay with: Steward's, with the payload codec under a fixed test key.

Histories recorded before encryption carry clear payloads, which the codec passes through; the encrypted
one (tests/histories/repair_encrypted.json, written by tests/e2e/test_encrypted_history.py) was sealed
with this key. A test key only: never use it anywhere else.
"""

from steward.codec import data_converter, parse_keys

REPLAY_KEYS = "k1:c3Rld2FyZC1yZXBsYXktdGVzdC1rZXktb25seSEhISE="
REPLAY_CONVERTER = data_converter(parse_keys(REPLAY_KEYS))
