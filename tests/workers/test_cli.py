"""The `steward` command line as an operator uses it: a subprocess with STEWARD_* settings."""

import os
import subprocess
import sys
from pathlib import Path

from steward.store.database import is_migrated, make_engine, session_factory
from steward.tokens import resolve_token
from workflows.contracts import Role

STEWARD = str(Path(sys.executable).parent / "steward")


def steward(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_DATA_DIR"] = str(data_dir)
    return subprocess.run([STEWARD, *args], env=env, capture_output=True, text=True, timeout=60)


def test_migrate_seed_and_token_create_print_only_a_working_token(tmp_path):
    assert steward(tmp_path, "migrate").returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'steward.db'}")
    assert is_migrated(engine)
    assert steward(tmp_path, "seed").stdout.strip() == "demo community created"
    assert steward(tmp_path, "seed").stdout.strip() == "demo community already present"

    created = steward(tmp_path, "token", "create", "--role", "staff", "--subject", "S001")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert len(created.stdout.splitlines()) == 1 and " " not in token
    actor = resolve_token(session_factory(engine), token)
    assert actor is not None and (actor.role, actor.id) == (Role.staff, "S001")


def test_token_for_someone_not_in_the_directory_is_a_one_line_error(tmp_path):
    steward(tmp_path, "migrate")
    steward(tmp_path, "seed")
    refused = steward(tmp_path, "token", "create", "--role", "resident", "--subject", "NOBODY")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.startswith("error: ") and "NOBODY" in refused.stderr


def test_migrate_downgrade_to_base_empties_the_schema(tmp_path):
    steward(tmp_path, "migrate")
    assert steward(tmp_path, "migrate", "--downgrade", "base").returncode == 0
    assert not is_migrated(make_engine(f"sqlite:///{tmp_path / 'steward.db'}"))
