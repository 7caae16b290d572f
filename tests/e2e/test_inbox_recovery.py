"""Documents answered from the SQLite inbox survive the stack dying before the relay moved
them: the restarted stack's relay moves them in and the pipeline finishes them."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil
import pytest

from tests.e2e.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TEXTS = [
    "关于做好今年防汛抗旱工作的通知\n各区人民政府:\n现将汛前检查和物资储备的有关事项通知如下。",
    "关于加强农村饮水安全保障的实施意见\n各县(市、区):\n为巩固农村供水工程建设成果,提出如下意见。",
    "关于开展中小学校园安全专项整治的通知\n各区教育局:\n决定即日起在全市开展校园周边环境整治。",
    "关于促进养老服务消费的若干措施\n市有关部门:\n为扩大居家社区养老服务供给,制定以下措施。",
    "关于做好高校毕业生就业创业工作的通知\n各有关单位:\n为稳定就业局势,开展见习岗位募集行动。",
]


def _relay(stack: RunningStack) -> psutil.Process:
    (relay,) = [p for p in stack.descendants() if "relay" in p.cmdline()[-1:]]
    return relay


def test_documents_waiting_in_the_inbox_survive_the_stack_being_killed(tmp_path: Path) -> None:
    inbox = tmp_path / "policy.db.inbox"
    first = RunningStack(data_dir=tmp_path, env={}, log_path=tmp_path / "stack.log")
    first.start()
    killed = False
    try:
        _relay(first).suspend()  # the relay never gets to these documents
        ids = []
        for text in TEXTS:
            r = first.ingest.post("/v1/documents", json={"text": text})
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        assert sorted(p.stem for p in inbox.glob("*.doc")) == sorted(ids)
        assert first.proc is not None
        # Every process at once, as a power cut would (workers run in sessions of their own).
        everyone = [psutil.Process(first.proc.pid), *first.descendants()]
        for p in everyone:
            p.send_signal(signal.SIGKILL)
        psutil.wait_procs(everyone, timeout=10)
        killed = True
    finally:
        if not killed:
            first.stop()

    second = RunningStack(data_dir=tmp_path, env={}, log_path=tmp_path / "stack.log")
    second.start()
    try:
        # Moved by the new relay, not by a read (a GET would move them itself).
        deadline = time.monotonic() + 30
        while list(inbox.glob("*.doc")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not list(inbox.glob("*.doc")), second.tail()
        done = second.wait_final(ids, timeout=120)
        assert {d["status"] for d in done.values()} == {"indexed"}
        hits = second.search.get("/v1/search", params={"q": "防汛抗旱"}).json()["hits"]
        assert ids[0] in {h["id"] for h in hits}
    finally:
        second.stop()
