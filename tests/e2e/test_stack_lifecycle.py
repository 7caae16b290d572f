"""`policy-search run` stops everything it started, however it is asked to stop."""

from __future__ import annotations

import signal
from pathlib import Path

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
