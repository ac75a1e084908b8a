"""The policy file's `[limits]`: each limit overridden key by key, the rest left at their defaults, and
a limit the policy does not know refused at start."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from steward.settings import Settings
from workflows.policy import AbuseLimits


def test_limits_are_read_key_by_key_from_the_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[limits]\nsubmissions = { count = 4 }\nemergencies = { per = "12h" }\n',
                    encoding="utf-8")
    limits = Settings(_env_file=None, sla_policy=path).policy.limits
    defaults = AbuseLimits()
    assert (limits.submissions.count, limits.submissions.per) == (4, defaults.submissions.per)
    assert limits.emergencies.count == defaults.emergencies.count
    assert limits.emergencies.per == timedelta(hours=12)
    assert limits.objections == defaults.objections


def test_an_unknown_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[limits]\nlogins = { count = 4, per = "1h" }\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown limit in SLA policy: logins"):
        _ = Settings(_env_file=None, sla_policy=path).policy
