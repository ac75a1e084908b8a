"""A fresh Steward for one benchmark run: the real processes on free ports of 127.0.0.1.

`temporal server start-dev` with a new SQLite file and Steward's search attributes, the database
migrated and seeded with the demo community, `steward api` and `steward sandbox` as `steward dev`
starts them, Steward's worker (`bench.worker steward`, i.e. `build_worker`), and beside them the
baseline's API and worker on their own task queue. Everything lives in a temporary data directory
and is stopped (process group by process group) when the run ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
STEWARD_QUEUE = "steward-bench"
BASELINE_QUEUE = "baseline-bench"
READY_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def quiet_hours_away(zone: str = "Asia/Shanghai") -> str:
    """A quiet-hours window that starts six hours from now: no resident message waits for a night."""
    local = datetime.now(UTC).astimezone(ZoneInfo(zone))
    start, end = local + timedelta(hours=6), local + timedelta(hours=7)
    return f"{start:%H:%M}-{end:%H:%M}"


@dataclass
class Process:
    name: str
    popen: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self, timeout: float = 15) -> None:
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        except ProcessLookupError:
            pass


@dataclass
class Stack:
    data_dir: Path
    keep: bool = False
    experiments: tuple[str, ...] = ()
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)
    worker_args: dict[str, list[str]] = field(default_factory=dict)

    # --- addresses -----------------------------------------------------------------------------

    @property
    def temporal(self) -> str:
        return f"127.0.0.1:{self.ports['temporal']}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sandbox']}"

    @property
    def baseline_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['baseline_api']}"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'steward.db'}"

    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.processes.items()}

    def env(self) -> dict[str, str]:
        """Steward's settings for every process, all explicit (no developer .env is read: cwd is ours)."""
        path = [str(ROOT / "bench" / "experiments")] if "sqlite-normal" in self.experiments else []
        return os.environ | {
            "PYTHONPATH": os.pathsep.join([*path, str(ROOT)]),
            "PYTHONUNBUFFERED": "1",
            "STEWARD_DATA_DIR": str(self.data_dir),
            "STEWARD_DATABASE_URL": self.database_url,
            "STEWARD_TEMPORAL_ADDRESS": self.temporal,
            "STEWARD_TEMPORAL_NAMESPACE": "default",
            "STEWARD_TASK_QUEUE": STEWARD_QUEUE,
            "STEWARD_API_HOST": "127.0.0.1",
            "STEWARD_API_PORT": str(self.ports["api"]),
            "STEWARD_SANDBOX_PORT": str(self.ports["sandbox"]),
            "STEWARD_PUBLIC_BASE_URL": self.api_url,
            "STEWARD_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "STEWARD_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "STEWARD_TWILIO_API_BASE_URL": self.sandbox_url,
            "STEWARD_QUIET_HOURS": quiet_hours_away(),
            "STEWARD_TIMEZONE": "Asia/Shanghai",
            "STEWARD_SLA_POLICY": str(ROOT / "bench" / "policy.toml"),
            "BENCH_TEMPORAL": self.temporal,
            "BENCH_TASK_QUEUE": BASELINE_QUEUE,
            "BENCH_PORT": str(self.ports["baseline_api"]),
        }

    def settings(self):
        """The same settings the processes read, for what the bench does itself (tokens, direct starts)."""
        from steward.settings import Settings

        env = self.env()
        values = {k.removeprefix("STEWARD_").lower(): v for k, v in env.items() if k.startswith("STEWARD_")}
        return Settings(_env_file=None, **values)

    # --- starting and stopping ---------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> Process:
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child's stdout for its life
        popen = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env(),
            cwd=self.data_dir,
            start_new_session=True,
        )
        process = Process(name, popen)
        self.processes[name] = process
        return process

    def start(
        self, steward_worker: list[str] | None = None, baseline_worker: list[str] | None = None
    ) -> Stack:
        from steward.seed import seed_demo
        from steward.store.database import make_engine, session_factory, upgrade
        from steward.temporal import dev_server_flags

        for name in (
            "temporal",
            "temporal_http",
            "temporal_metrics",
            "api",
            "sandbox",
            "baseline_api",
            "steward_metrics",
            "baseline_metrics",
        ):
            self.ports[name] = free_port()
        self._spawn(
            "temporal",
            [
                str(BIN / "temporal"),
                "server",
                "start-dev",
                "--headless",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.ports["temporal"]),
                "--http-port",
                str(self.ports["temporal_http"]),
                "--metrics-port",
                str(self.ports["temporal_metrics"]),
                "--db-filename",
                str(self.data_dir / "temporal.db"),
                "--log-level",
                "warn",
                *dev_server_flags(),
            ],
        )
        self._wait_port("temporal", self.ports["temporal"])
        engine = make_engine(self.database_url)
        upgrade(engine)
        seed_demo(session_factory(engine))
        engine.dispose()
        steward = [sys.executable, "-m", "workers.cli"]
        self._spawn("sandbox", [*steward, "sandbox"])
        self._spawn("api", [*steward, "api"])
        self._spawn("baseline_api", [sys.executable, "-m", "bench.engine_api"])
        self.start_worker("steward_worker", steward_worker or [])
        self.start_worker("baseline_worker", baseline_worker or [])
        self._wait_http("sandbox", f"{self.sandbox_url}/sandbox/phones")
        self._wait_http("api", f"{self.api_url}/readyz")
        self._wait_http("baseline_api", f"{self.baseline_url}/docs")
        return self

    def start_worker(self, name: str, options: list[str]) -> Process:
        """(Re)start a worker: `baseline_worker`, `steward_worker` or another Steward worker on the same
        task queue (scenario 7's `steward_worker_2`), with extra `bench.worker` options."""
        if name in self.processes:
            self.processes.pop(name).stop()
        kind = "baseline" if name == "baseline_worker" else "steward"
        metrics = {"steward_worker": "steward_metrics", "baseline_worker": "baseline_metrics"}.get(
            name, f"{name}_metrics")
        self.ports.setdefault(metrics, free_port())
        argv = [
            sys.executable,
            "-m",
            "bench.worker",
            kind,
            "--temporal",
            self.temporal,
            "--task-queue",
            STEWARD_QUEUE if kind == "steward" else BASELINE_QUEUE,
            "--metrics-port",
            str(self.ports[metrics]),
            "--sandbox-url",
            self.sandbox_url,
            "--account-sid",
            ACCOUNT_SID,
            "--auth-token",
            AUTH_TOKEN,
            *options,
        ]
        self.worker_args[name] = options
        process = self._spawn(name, argv)
        self._wait_http(name, f"http://127.0.0.1:{self.ports[metrics]}/metrics")
        return process

    def stop_worker(self, name: str) -> None:
        self.processes.pop(name).stop()

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()
        self.processes.clear()
        if not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _check_alive(self) -> None:
        for process in self.processes.values():
            if process.popen.poll() is not None:
                log = (self.data_dir / f"{process.name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{process.name} exited during start-up:\n{log}")

    def _wait_port(self, name: str, port: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self._check_alive()
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not listen on {port}")

    def _wait_http(self, name: str, url: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer at {url}")


def new_stack(keep: bool = False, experiments: tuple[str, ...] = ()) -> Stack:
    return Stack(Path(tempfile.mkdtemp(prefix="steward-bench-")), keep=keep, experiments=experiments)
