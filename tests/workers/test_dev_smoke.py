"""`steward dev` as a person runs it: a subprocess on free ports in an empty directory."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

STEWARD = str(Path(sys.executable).parent / "steward")
START_TIMEOUT_S = 150
LEAK = {"category": "plumbing", "title": "Kitchen tap leaking", "description": "Drips all night.",
        "building_id": "B1", "unit": "101"}


class DevRun:
    def __init__(self, data_dir: Path, ports: dict[str, int]) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "TWILIO_"))}
        env |= {
            "STEWARD_DATA_DIR": str(data_dir),
            "STEWARD_API_PORT": str(ports["api"]),
            "STEWARD_SANDBOX_PORT": str(ports["sandbox"]),
            "STEWARD_TEMPORAL_PORT": str(ports["temporal"]),
            "STEWARD_TEMPORAL_UI_PORT": str(ports["ui"]),
        }
        self.proc = subprocess.Popen([STEWARD, "dev"], cwd=data_dir, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.strip() == "READY":
                self.ready.set()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.ready.wait(0.5):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"steward dev did not become ready: {self.lines} {self.proc.stderr.read()}")

    def urls(self) -> dict[str, str]:
        return {p[1]: p[2] for line in self.lines if (p := line.split()) and p[0] == "URL"}

    def tokens(self) -> list[tuple[str, str, str]]:
        return [(p[1], p[2], p[3]) for line in self.lines if (p := line.split()) and p[0] == "TOKEN"]

    def descendants(self) -> set[int]:
        """Every process whose ancestry leads to `steward dev`, read from /proc."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        found, frontier = set(), {self.proc.pid}
        while frontier:
            frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
            found |= frontier
        return found

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def _ports() -> dict[str, int]:
    """Four distinct free ports below the kernel's ephemeral range: the other tests' servers bind port 0,
    and could be handed a port this run let go of a moment before its processes bind it."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports: list[int] = []
    for port in random.sample(range(low // 2, low), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == 4:
            return dict(zip(("api", "sandbox", "temporal", "ui"), ports, strict=True))
    raise RuntimeError("no four free ports below the ephemeral range")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_steward_dev_starts_everything_prints_urls_and_tokens_and_stops_clean(tmp_path):
    run = DevRun(tmp_path, _ports())
    run.wait_ready()
    children = run.descendants()
    try:
        urls = run.urls()
        assert {"api", "docs", "temporal-ui", "sandbox"} <= set(urls)
        assert httpx.get(urls["api"] + "/readyz", timeout=10).status_code == 200
        assert httpx.get(urls["docs"], timeout=10).status_code == 200
        assert httpx.get(urls["temporal-ui"], timeout=10).status_code == 200
        assert httpx.get(urls["sandbox"], timeout=10).status_code == 200
        assert httpx.get(urls["app"], timeout=10).status_code == 200
        assert httpx.get(urls["public"], timeout=10).status_code == 200
        assert "PHONE service-centre +86 21 5555 0100" in run.lines, "the number residents call or text"
        roles = [role for role, _, _ in run.tokens()]
        assert {"admin", "supervisor", "staff", "resident"} <= set(roles)
        assert roles.count("resident") >= 2
        admin = next(token for role, _, token in run.tokens() if role == "admin")
        staff = httpx.get(urls["api"] + "/staff", headers={"Authorization": f"Bearer {admin}"}, timeout=10)
        assert {member["tier"] for member in staff.json()["items"]} >= {0, 1, 2, 3}
        plan = httpx.get(urls["api"] + "/equipment/EQ-B1-LIFT1/plan", timeout=10,
                         headers={"Authorization": f"Bearer {admin}"})
        assert plan.status_code == 200 and plan.json()["next_inspections"], plan.text
        assert (tmp_path / "temporal.db").exists() and (tmp_path / "steward.db").exists()
        keys = (tmp_path / "payload-keys").read_text(encoding="utf-8")  # made on the first run (issue 19)
        assert len(children) >= 4
        resident = next(token for role, _, token in run.tokens() if role == "resident")
        submitted = httpx.post(urls["api"] + "/requests", timeout=30, json=LEAK, headers={
            "Authorization": f"Bearer {resident}", "Idempotency-Key": "smoke-leak-1"})
        assert submitted.status_code == 201, submitted.text
        case_id = submitted.json()["case_id"]
    finally:
        assert run.stop() == 0
    time.sleep(0.5)
    assert [pid for pid in children if _alive(pid)] == []

    again = DevRun(tmp_path, _ports())
    again.wait_ready()
    try:
        assert again.tokens() == run.tokens()
        assert (tmp_path / "payload-keys").read_text(encoding="utf-8") == keys  # kept: histories readable
        admin = next(token for role, _, token in again.tokens() if role == "admin")
        residents = httpx.get(again.urls()["api"] + "/residents", timeout=10,
                              headers={"Authorization": f"Bearer {admin}"})
        assert len(residents.json()["items"]) >= 20
        kept = httpx.get(again.urls()["api"] + "/equipment/EQ-B1-PUMP1/plan", timeout=10,
                         headers={"Authorization": f"Bearer {admin}"})
        assert kept.status_code == 200 and kept.json()["set_by"] == "S201", "the demo plans survive a restart"
        resident = next(token for role, _, token in again.tokens() if role == "resident")
        case = httpx.get(f"{again.urls()['api']}/requests/{case_id}", timeout=30,
                         headers={"Authorization": f"Bearer {resident}"})
        assert case.status_code == 200, case.text
        assert case.json()["status"] != "closed" and case.json()["title"] == LEAK["title"]
    finally:
        assert again.stop() == 0


def test_a_taken_port_is_one_line_naming_it_and_a_non_zero_exit(tmp_path):
    ports = _ports()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports["api"]))
        taken.listen()
        run = DevRun(tmp_path, ports)
        code = run.proc.wait(timeout=60)
        error = run.proc.stderr.read().strip().splitlines()
    assert code != 0
    assert error == [f"error: port {ports['api']} (STEWARD_API_PORT) is already in use"]
