"""`policy-search run` stops everything it started, however it is asked to stop."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("sig", "as_background_job"),
    [(signal.SIGINT, True), (signal.SIGHUP, False)],
    ids=["ctrl-c-to-a-background-job", "terminal-closed"],
)
def test_the_stack_stops_with_no_process_left(
    tmp_path: Path, sig: signal.Signals, as_background_job: bool
) -> None:
    stack = RunningStack(data_dir=tmp_path, env={}, log_path=tmp_path / "stack.log")
    stack.start(as_background_job=as_background_job)
    assert len(stack.descendants()) >= 5  # two APIs, two workers, beat (and pools)
    # `stop` raises if any process outlives the stack.
    assert stack.stop(sig, timeout=40) == 0


def test_the_workers_run_in_the_background_and_the_apis_do_not(tmp_path: Path) -> None:
    """Workers, their pool processes and beat yield the CPU (a lower priority, the batch
    scheduling policy, and where the kernel groups by session, a lower priority for their
    session's group); the two APIs and the relay, which a caller waits on, do not."""
    stack = RunningStack(data_dir=tmp_path, env={}, log_path=tmp_path / "stack.log")
    stack.start()
    try:

        def by_role() -> dict[str, list[psutil.Process]]:
            roles: dict[str, list[psutil.Process]] = {}
            for proc in stack.descendants():
                with contextlib.suppress(psutil.NoSuchProcess):
                    roles.setdefault(_role(proc.cmdline()), []).append(proc)
            return roles

        deadline = time.monotonic() + 30
        while len(by_role().get("extract", [])) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)  # the pool processes fork once the worker has started
        roles = by_role()
        assert len(roles.get("extract", [])) >= 3, roles  # the worker and its pool of 2
        own_nice = os.getpriority(os.PRIO_PROCESS, 0)
        for role, procs in roles.items():
            background = role in ("extract", "indexer", "beat")
            for proc in procs:
                policy = os.sched_getscheduler(proc.pid)
                nice = os.getpriority(os.PRIO_PROCESS, proc.pid)
                group = _session_group_nice(proc.pid)
                if background:
                    assert (policy, nice) == (os.SCHED_BATCH, min(19, own_nice + 10)), role
                    assert group in (None, 10), role
                elif role != "other":
                    assert (policy, nice) == (os.SCHED_OTHER, own_nice), role
                    assert group in (None, 0), role
        assert {"ingest", "search", "relay", "indexer", "beat"} <= set(roles)
    finally:
        stack.stop()


def _session_group_nice(pid: int) -> int | None:
    """The nice of the process's session group (autogroup); None where the kernel has none
    or has it turned off."""
    enabled = Path("/proc/sys/kernel/sched_autogroup_enabled")
    if not enabled.exists() or enabled.read_text().strip() == "0":
        return None
    try:
        line = Path(f"/proc/{pid}/autogroup").read_text()  # "/autogroup-85 nice 0"
    except OSError:
        return None
    return int(line.split()[-1])


def _role(argv: list[str]) -> str:
    line = " ".join(argv)
    for marker, role in (
        ("services.ingest.app", "ingest"),
        ("services.search.app", "search"),
        ("cli.main relay", "relay"),
        (" beat", "beat"),
        ("-Q extract", "extract"),
        ("-Q search", "indexer"),
    ):
        if marker in line:
            return role
    return "other"
