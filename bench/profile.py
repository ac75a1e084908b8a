"""Where a process spends its time, sampled from outside with py-spy (no change to the process).

`py-spy record --format raw` writes one line per distinct stack ("frame;frame;… count"). From it we
count, per process, the share of samples whose stack passes through each area of the code — ours
(api/, workflows/, activities/, steward/, sandbox/) or a library's (temporalio, sqlalchemy, pydantic,
twilio, uvicorn/starlette/fastapi, httpx, asyncio) — and the functions with the most samples.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

AREAS = [
    ("ours: workflows/", "(workflows/"),
    ("ours: activities/", "(activities/"),
    ("ours: api/", "(api/"),
    ("ours: steward/", "(steward/"),
    ("ours: sandbox/", "(sandbox/"),
    ("bench/", "(bench/"),
    ("temporalio sandbox", "(temporalio/worker/workflow_sandbox/"),
    ("temporalio", "(temporalio/"),
    ("sqlalchemy", "(sqlalchemy/"),
    ("pydantic", "(pydantic"),
    ("twilio", "(twilio/"),
    ("aiohttp", "(aiohttp/"),
    ("httpx/httpcore/h11", "(httpx/"),
    ("httpx/httpcore/h11", "(httpcore/"),
    ("httpx/httpcore/h11", "(h11/"),
    ("fastapi/starlette", "(starlette/"),
    ("fastapi/starlette", "(fastapi/"),
    ("uvicorn", "(uvicorn/"),
    ("logging", "(logging/"),
    ("asyncio", "(asyncio/"),
    ("sqlite commit", "do_commit (sqlalchemy/"),
]


# Leaf frames where a thread waits rather than works.
IDLE = (
    "EpollSelector.select",
    "select (",
    "Condition.wait (threading",
    "_worker (concurrent",
    "wait (threading",
    "_run_once (asyncio",
)
OURS = ("(workflows/", "(activities/", "(api/", "(steward/", "(sandbox/")


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return found if Path(found).exists() else None


def start(pid: int, seconds: float | None, out: Path) -> subprocess.Popen | None:
    """Sample `pid` for `seconds`, or until `stop()` when None."""
    binary = py_spy()
    if binary is None:
        return None
    duration = ["--duration", str(int(seconds))] if seconds else []
    return subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            *duration,
            "--rate",
            "100",
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(spy: subprocess.Popen | None) -> None:
    """End an open-ended recording; py-spy writes its file on SIGINT."""
    if spy is None:
        return
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(timeout=30)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.wait()


def summarise(path: Path, top: int = 12) -> dict:
    """Share of samples per code area (a stack counts once per area) and the hottest leaf functions."""
    if not path.exists():
        return {"error": "no samples (py-spy missing or not permitted)"}
    total = 0
    areas: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if not frames[-1] or frames[-1].startswith(IDLE):
            continue
        total += count
        seen = {name for name, marker in AREAS if any(marker in frame for frame in frames)}
        for name in seen:
            areas[name] += count
        leaves[frames[-1]] += count
        mine = [f for f in frames if any(m in f for m in OURS)]
        if mine:
            ours[mine[-1]] += count
    share = {name: round(100 * n / total, 1) for name, n in areas.most_common()} if total else {}
    return {
        "busy_samples": total,
        "percent_of_busy_samples_by_area": share,
        "hottest_leaf_frames": [[frame, round(100 * n / total, 1)] for frame, n in leaves.most_common(top)],
        "hottest_frames_of_ours": [[frame, round(100 * n / total, 1)] for frame, n in ours.most_common(top)],
    }
