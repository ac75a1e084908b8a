"""deploy/ cannot rot: every command, variable, port, image and healthcheck it names exists in Steward.

The files are read as Docker reads them (YAML, the Dockerfile's instructions); the CLI's own parser,
the settings' own fields and the health routes are the reference. Nothing is built or started.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from api.routes.health import router as health_router
from steward.settings import Settings
from steward.temporal import dev_server_flags
from workers.cli import parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
FIELDS = set(Settings.model_fields)
STEWARD_VARIABLE = re.compile(r"\bSTEWARD_[A-Z0-9_]+\b")
STEWARD_COMMAND = re.compile(r"`steward ([a-z][a-z-]*(?: [a-z][a-z-]*)?)")
SETTING_IN_HEALTHCHECK = re.compile(r"S\(\)\.(\w+)\}(/\w+)")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    lines = (DEPLOY / "env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name: value for name, value in pairs}


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    rows = [line.split(None, 1) for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [(row[0].upper(), row[1]) for row in rows]


def _steward_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if s["image"].startswith("steward:")}


def _by_command(compose: dict, command: str) -> dict[str, dict]:
    return {name: s for name, s in _steward_services(compose).items() if s["command"] == [command]}


def _setting(name: str) -> str:
    return name.removeprefix("STEWARD_").lower()


def _default(field: str):
    return Settings.model_fields[field].default


def _cli_knows(words: list[str]) -> bool:
    """Walks the CLI's own argparse tree: `token create` must be a sub-command of a sub-command."""
    current = parser()
    for word in words:
        commands = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if not commands:
            return True
        if word not in commands[0].choices:
            return False
        current = commands[0].choices[word]
    return True


def test_every_steward_command_named_exists_in_the_cli(compose, dockerfile):
    instructions = dict(dockerfile)
    assert instructions["ENTRYPOINT"] == '["steward"]'
    named = [[*_steward_services(compose)[name]["command"]] for name in _steward_services(compose)]
    named.append(yaml.safe_load(instructions["CMD"]))
    for path in (DEPLOY / "compose.yaml", DEPLOY / "Dockerfile", ROOT / "docs" / "operations.md"):
        named += [found.split() for found in STEWARD_COMMAND.findall(path.read_text())]
    assert ["migrate"] in named and ["api"] in named and ["worker"] in named
    unknown = [" ".join(words) for words in named if not _cli_knows(words)]
    assert not unknown, f"not steward commands: {unknown}"


def test_every_steward_variable_is_a_setting(compose, env_example):
    texts = [(DEPLOY / name).read_text() for name in ("compose.yaml", "env.example", "Dockerfile")]
    texts.append((ROOT / "docs" / "operations.md").read_text())
    named = {variable for text in texts for variable in STEWARD_VARIABLE.findall(text)}
    unknown = sorted(v for v in named if _setting(v) not in FIELDS)
    assert not unknown, f"no such setting: {unknown}"


def test_every_steward_process_gets_exactly_the_example_settings(compose, env_example):
    example = {name for name in env_example if name.startswith("STEWARD_")}
    for name, service in _steward_services(compose).items():
        assert set(service["environment"]) == example, name
        for variable, value in service["environment"].items():
            assert value.startswith(f"${{{variable}:"), f"{name}: {variable} must come from .env"


def test_the_example_values_are_valid_settings(env_example, monkeypatch):
    for name, value in env_example.items():
        if name == "STEWARD_PAYLOAD_KEYS":  # a placeholder that must be refused (the test below)
            continue
        if name.startswith("STEWARD_") and _setting(name) in Settings.model_fields:
            monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.database.startswith("postgresql://")
    assert urlsplit(settings.webhook_base_url).scheme == "https"
    assert urlsplit(settings.twilio_base_url).hostname == "api.twilio.com"


def test_addresses_point_at_the_services_that_serve_them(compose, env_example):
    services = compose["services"]
    database = urlsplit(env_example["STEWARD_DATABASE_URL"])
    assert database.hostname in services and database.port == 5432
    assert database.password == env_example["POSTGRES_STEWARD_PASSWORD"]
    init_sql = (DEPLOY / "postgres" / "init-roles.sh").read_text()
    assert f"CREATE DATABASE {database.path.lstrip('/')} OWNER {database.username}" in init_sql
    init_mount = "./postgres/init-roles.sh:/docker-entrypoint-initdb.d/10-roles.sh:ro"
    assert init_mount in services["postgres"]["volumes"]

    host, port = env_example["STEWARD_TEMPORAL_ADDRESS"].split(":")
    assert host == "temporal" and int(port) == _default("temporal_port")
    assert services["temporal-setup"]["environment"]["TEMPORAL_ADDRESS"] == f"{host}:{port}"
    assert services["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == f"{host}:{port}"


def _published(service: dict) -> list[tuple[str, int, int]]:
    """(host address, host port, container port) of "127.0.0.1:8000:8000" entries."""
    return [(address, int(host), int(container))
            for address, host, container in (entry.split(":") for entry in service.get("ports", []))]


def test_every_published_port_is_the_settings_port_on_the_loopback(compose, env_example, dockerfile):
    api_port = int(env_example["STEWARD_API_PORT"])
    assert api_port == _default("api_port")
    assert dict(dockerfile)["EXPOSE"] == str(api_port)
    apis = _by_command(compose, "api")
    assert len(apis) == 2 and len(_by_command(compose, "worker")) == 2
    for name in apis:
        assert [container for _, _, container in _published(apis[name])] == [api_port], name
    assert [p[2] for p in _published(compose["services"]["temporal"])] == [_default("temporal_port")]
    assert [p[1] for p in _published(compose["services"]["temporal-ui"])] == [_default("temporal_ui_port")]
    everything = [p for service in compose["services"].values() for p in _published(service)]
    assert {address for address, _, _ in everything} == {"127.0.0.1"}
    host_ports = [host for _, host, _ in everything]
    assert len(host_ports) == len(set(host_ports))
    for name, service in _steward_services(compose).items():
        assert not _published(service) or name in apis, f"{name} publishes a port"


def test_images_have_explicit_tags(compose, dockerfile):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    for name, service in compose["services"].items():
        image, _, tag = service["image"].rpartition(":")
        assert image and tag and tag != "latest", name
    for name in _steward_services(compose):
        assert compose["services"][name]["image"] == f"steward:{version}"
    bases = [arguments.split()[0] for instruction, arguments in dockerfile if instruction == "FROM"]
    assert bases == ["python:3.11-slim", "python:3.11-slim"]


def test_apis_and_workers_have_healthchecks_on_real_routes_and_ports(compose):
    routes = {route.path for route in health_router.routes}
    expected = {"api": "api_port", "worker": "worker_http_port"}
    for command, setting in expected.items():
        for name, service in _by_command(compose, command).items():
            check = " ".join(service["healthcheck"]["test"])
            ((field, path),) = SETTING_IN_HEALTHCHECK.findall(check)
            assert field == setting and field in FIELDS, name
            if command == "api":
                assert path in routes, f"{name}: {path} is not a health route"
    for name, service in compose["services"].items():
        for dependency, condition in service.get("depends_on", {}).items():
            target = compose["services"][dependency]
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in target, f"{name} waits for {dependency}, which has no healthcheck"
            else:
                assert condition["condition"] == "service_completed_successfully"
                assert target.get("restart", "no").startswith(("no", "on-failure")), dependency


def test_migrations_run_once_before_any_api_or_worker(compose):
    (migrate,) = _by_command(compose, "migrate").values()
    assert migrate["restart"].startswith("on-failure")
    for command in ("api", "worker"):
        for name, service in _by_command(compose, command).items():
            assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
            assert service["depends_on"]["temporal-setup"] == {"condition": "service_completed_successfully"}


def test_the_cluster_gets_every_search_attribute_of_the_workflows(compose):
    declared = compose["services"]["temporal-setup"]["environment"]["SEARCH_ATTRIBUTES"].split()
    assert declared == dev_server_flags()[1::2]


def test_the_image_holds_the_wheel_without_extras_or_sandbox(dockerfile):
    sources = [path for instruction, arguments in dockerfile
               if instruction == "COPY" and not arguments.startswith("--from")
               for path in arguments.split()[:-1]]
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such path"
    assert "sandbox" not in sources
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert {pattern.rstrip("*") for pattern in packages["include"]} <= set(sources), "a package is not copied"
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert "**" in ignore, "the build context starts empty: only what the image needs is let in"
    kept = {line[1:] for line in ignore if line.startswith("!")}
    assert set(sources) <= kept, f"excluded from the build context: {set(sources) - kept}"
    installs = [arguments for instruction, arguments in dockerfile
                if instruction == "RUN" and "pip install" in arguments]
    assert len(installs) == 1 and "[" not in installs[0] and "steward-*.whl" in installs[0]
    users = [arguments for instruction, arguments in dockerfile if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_the_example_payload_key_is_a_placeholder_every_process_refuses(env_example):
    """Copying env.example unchanged must not start a system whose histories anyone could decrypt."""
    with pytest.raises(ValueError, match="not base64"):
        Settings(payload_keys=env_example["STEWARD_PAYLOAD_KEYS"])
