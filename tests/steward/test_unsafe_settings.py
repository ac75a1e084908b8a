"""`steward api` and `steward worker` refuse, with one line per problem, settings that would let
anyone sign Twilio webhooks once Twilio is a real (non-loopback) address."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

STEWARD = str(Path(sys.executable).parent / "steward")
REAL_TWILIO = "https://api.twilio.com"
OWN_ACCOUNT = {"STEWARD_TWILIO_ACCOUNT_SID": "AC" + "5" * 32, "STEWARD_TWILIO_AUTH_TOKEN": "a-real-secret",
               "STEWARD_PAYLOAD_KEYS": "k1:" + "QUJD" * 10 + "QUI="}


def start(process: str, tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "TWILIO_"))}
    # Nothing listens here: a process that got past the checks fails to connect instead of hanging.
    env |= {"STEWARD_DATA_DIR": str(tmp_path), "STEWARD_TEMPORAL_ADDRESS": "127.0.0.1:9",
            "STEWARD_API_PORT": "9", "STEWARD_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"}
    return subprocess.run([STEWARD, process], cwd=tmp_path, env=env | variables, capture_output=True,
                          text=True, timeout=60)


def refusals(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if "refusing to start" in line]


@pytest.mark.parametrize("process", ["api", "worker"])
@pytest.mark.parametrize(("variables", "named"), [
    ({"STEWARD_TWILIO_AUTH_TOKEN": "sandbox-auth-token"}, "STEWARD_TWILIO_AUTH_TOKEN"),
    ({"STEWARD_TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000"}, "STEWARD_TWILIO_ACCOUNT_SID"),
    ({"STEWARD_PUBLIC_BASE_URL": ""}, "STEWARD_PUBLIC_BASE_URL is not set"),
    ({"STEWARD_PUBLIC_BASE_URL": "http://steward.example.com"}, "is not https://"),
    ({"STEWARD_PAYLOAD_KEYS": ""}, "STEWARD_PAYLOAD_KEYS is not set"),
])
def test_each_unsafe_setting_with_real_twilio_is_refused_at_start_with_one_line(
    process: str, variables: dict, named: str, tmp_path: Path
) -> None:
    safe = OWN_ACCOUNT | {"STEWARD_TWILIO_API_BASE_URL": REAL_TWILIO,
                          "STEWARD_PUBLIC_BASE_URL": "https://steward.example.com"}
    result = start(process, tmp_path, **(safe | variables))
    assert result.returncode == 2, result.stderr
    lines = refusals(result)
    assert len(lines) == 1 and named in lines[0], result.stderr
    assert "a-real-secret" not in result.stderr


@pytest.mark.parametrize("process", ["api", "worker"])
def test_the_sandbox_defaults_start_past_the_checks(process: str, tmp_path: Path) -> None:
    """On the loopback sandbox the public token is fine: the process goes on (and fails only to reach
    the Temporal server that is not there)."""
    result = start(process, tmp_path)
    assert refusals(result) == [] and result.returncode != 2, result.stderr


def test_every_problem_of_a_bare_production_setup_is_named(tmp_path: Path) -> None:
    result = start("api", tmp_path, STEWARD_TWILIO_API_BASE_URL=REAL_TWILIO)
    assert result.returncode == 2
    assert len(refusals(result)) == 4, result.stderr
