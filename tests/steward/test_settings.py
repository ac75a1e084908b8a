"""Settings and the published SLA policy: defaults from SPEC §2, a TOML file overrides key by key."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from steward.settings import Settings, parse_duration
from workflows.contracts import Channel, Severity, Tier


def test_default_policy_is_the_published_one():
    policy = Settings(_env_file=None).policy
    assert policy.for_severity(Severity.normal).response == timedelta(minutes=30)
    assert policy.for_severity(Severity.normal).resolution == timedelta(hours=24)
    assert policy.for_severity(Severity.emergency).first_tier == Tier.property_manager
    assert policy.for_severity(Severity.emergency).staff_channel == Channel.voice
    assert policy.for_severity(Severity.low).resolution == timedelta(hours=72)
    assert policy.callback.wait == timedelta(hours=4) and policy.callback.attempts == 3
    assert policy.delivery.retry_for == timedelta(hours=6)
    assert policy.delivery.max_backoff == timedelta(minutes=5)
    assert policy.timezone == "Asia/Shanghai"
    assert (policy.quiet_hours.start, policy.quiet_hours.end) == ("22:00", "08:00")


def test_policy_file_overrides_only_the_keys_it_names(tmp_path):
    path = tmp_path / "sla.toml"
    path.write_text('[severity.normal]\nresponse = "90s"\n[callback]\nwait = "2h"\nattempts = 2\n')
    policy = Settings(_env_file=None, sla_policy=path, quiet_hours="23:00-07:30").policy
    assert policy.for_severity(Severity.normal).response == timedelta(seconds=90)
    assert policy.for_severity(Severity.normal).resolution == timedelta(hours=24)
    assert policy.callback.wait == timedelta(hours=2) and policy.callback.attempts == 2
    assert (policy.quiet_hours.start, policy.quiet_hours.end) == ("23:00", "07:30")


def test_the_delivery_retry_budget_is_set_in_the_policy_file_and_must_outlast_its_backoff(tmp_path):
    path = tmp_path / "sla.toml"
    path.write_text('[delivery]\nretry_for = "12h"\n')
    delivery = Settings(_env_file=None, sla_policy=path).policy.delivery
    assert (delivery.retry_for, delivery.max_backoff) == (timedelta(hours=12), timedelta(minutes=5))
    path.write_text('[delivery]\nretry_for = "1m"\nmax_backoff = "5m"\n')
    with pytest.raises(ValidationError, match="max_backoff"):
        _ = Settings(_env_file=None, sla_policy=path).policy


def test_environment_variables_configure_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("STEWARD_API_PORT", "9123")
    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STEWARD_PUBLIC_BASE_URL", "https://steward.example.org/")
    settings = Settings(_env_file=None)
    assert settings.api_port == 9123
    assert settings.database == f"sqlite:///{tmp_path.resolve() / 'steward.db'}"
    assert settings.webhook_base_url == "https://steward.example.org"


@pytest.mark.parametrize("text", ["30", "m", "1.5h", "-3m", "3 weeks"])
def test_bad_durations_are_refused_with_the_value(text):
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_bad_policy_file_is_refused(tmp_path):
    path = tmp_path / "sla.toml"
    path.write_text('[severity.critical]\nresponse = "5m"\n')
    with pytest.raises(ValueError, match="unknown severity"):
        _ = Settings(_env_file=None, sla_policy=path).policy


def test_bad_zone_and_quiet_hours_are_refused():
    with pytest.raises(ValidationError):
        Settings(_env_file=None, timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        Settings(_env_file=None, quiet_hours="10pm-8am")


async def test_the_worker_keeps_as_many_cases_in_memory_as_the_setting_says(
    monkeypatch, ts_env, sqlite_database, worker_for
):
    monkeypatch.setenv("STEWARD_WORKER_CACHE_SIZE", "25")
    settings = Settings(_env_file=None, task_queue="cache-size")
    async with worker_for(ts_env, settings, sqlite_database) as worker:
        assert worker.config()["max_cached_workflows"] == 25
