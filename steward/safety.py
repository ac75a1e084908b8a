"""Settings that would let anyone forge Twilio's webhooks, or leave residents' data in clear in Temporal,
are refused before a process starts.

The defaults point the real Twilio client at the local sandbox with a public token; that is right on a
developer's machine and wrong the moment the Twilio address leaves the loopback interface: the sandbox
token would sign (and so forge) every webhook, and without an `https://` public address the signatures
are checked against an address Twilio never used.
"""

from __future__ import annotations

import ipaddress
import sys
from urllib.parse import urlsplit

from steward.settings import Settings

SANDBOX_DEFAULTS = Settings.model_fields


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def unsafe_settings(settings: Settings) -> list[str]:
    """One line per unsafe setting; none while Twilio is the loopback sandbox."""
    if is_loopback(settings.twilio_base_url):
        return []
    address = settings.twilio_base_url
    problems = []
    if settings.twilio_auth_token == SANDBOX_DEFAULTS["twilio_auth_token"].default:
        problems.append(f"STEWARD_TWILIO_AUTH_TOKEN is the public sandbox token while Twilio is {address}: "
                        "anyone could sign webhooks; set the account's own auth token")
    if settings.twilio_account_sid == SANDBOX_DEFAULTS["twilio_account_sid"].default:
        problems.append(f"STEWARD_TWILIO_ACCOUNT_SID is the sandbox account while Twilio is {address}: "
                        "set the account's own SID")
    if not settings.public_base_url:
        problems.append(f"STEWARD_PUBLIC_BASE_URL is not set while Twilio is {address}: "
                        "set the https:// address Twilio reaches the API at")
    elif urlsplit(settings.public_base_url).scheme != "https":
        problems.append(f"STEWARD_PUBLIC_BASE_URL {settings.public_base_url} is not https:// while Twilio is "
                        f"{address}: webhooks would travel in clear; use the https:// address")
    if not settings.encryption_keys:
        problems.append(f"STEWARD_PAYLOAD_KEYS is not set while Twilio is {address}: residents' phone "
                        "numbers and names would sit in clear in Temporal; set k1:<base64 of 32 random bytes>"
                        " (docs/security.md)")
    return problems


def refuse_unsafe(settings: Settings, process: str) -> bool:
    """Print one line per unsafe setting to stderr; True when the process must not start."""
    problems = unsafe_settings(settings)
    for problem in problems:
        print(f"steward {process}: refusing to start: {problem}", file=sys.stderr)
    return bool(problems)
