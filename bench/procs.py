"""What the operating system says about a process: CPU seconds and resident memory, from /proc."""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` so far (fields 14 and 15 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return 0


@dataclass
class CpuMeter:
    """CPU seconds each named process used between `start()` and `stop()`."""

    pids: dict[str, int]

    def start(self) -> CpuMeter:
        self._begin = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._wall = _monotonic()
        return self

    def stop(self) -> dict[str, float]:
        wall = _monotonic() - self._wall
        used = {name: round(cpu_seconds(pid) - self._begin[name], 3) for name, pid in self.pids.items()}
        used["wall_s"] = round(wall, 3)
        return used


def _monotonic() -> float:
    import time

    return time.monotonic()


def machine() -> dict[str, object]:
    """The machine the figures were measured on."""
    import platform

    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model
            )
    except OSError:
        pass
    memory = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            memory = int(next(line for line in info if line.startswith("MemTotal")).split()[1]) * 1024
    except (OSError, StopIteration):
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(memory / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
