"""Start the real stack (`policy-search run`) as a subprocess and talk to it over HTTP.

Used by the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import psutil

FINAL = {"indexed", "duplicate", "failed"}
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RunningStack:
    def __init__(self, *, data_dir: Path, env: dict[str, str], log_path: Path) -> None:
        self.data_dir = data_dir
        self.ingest_port = free_port()
        self.search_port = free_port()
        self.env = {
            **os.environ,
            **env,
            "DATA_DIR": str(data_dir),
            "INGEST_PORT": str(self.ingest_port),
            "SEARCH_PORT": str(self.search_port),
            "LOG_JSON": "true",
            "SWEEPER_STUCK_AFTER_SECONDS": env.get("SWEEPER_STUCK_AFTER_SECONDS", "120"),
        }
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.api_key: str | None = None
        self.ingest = httpx.Client(base_url=f"http://127.0.0.1:{self.ingest_port}", timeout=30)
        self.search = httpx.Client(base_url=f"http://127.0.0.1:{self.search_port}", timeout=30)

    def start(self, timeout: float = 90, *, as_background_job: bool = False) -> None:
        """`as_background_job`: SIGINT ignored, as a shell starts `cmd &`."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "run"],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
            if as_background_job
            else None,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"stack exited early; see {self.log_path}:\n{self.tail()}")
            if self._healthy():
                key_file = self.data_dir / "local-api-key"
                if key_file.exists():
                    self.api_key = key_file.read_text().strip()
                    self.ingest.headers["X-API-Key"] = self.api_key
                return
            time.sleep(0.3)
        raise RuntimeError(f"stack not healthy after {timeout}s:\n{self.tail()}")

    def _healthy(self) -> bool:
        try:
            return (
                self.ingest.get("/healthz").status_code == 200
                and self.search.get("/healthz").status_code == 200
            )
        except httpx.TransportError:
            return False

    def descendants(self) -> list[psutil.Process]:
        if self.proc is None:
            return []
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self, sig: int = signal.SIGINT, timeout: float = 40) -> int:
        assert self.proc is not None
        children = self.descendants()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait(10)
        _gone, alive = psutil.wait_procs(children, timeout=10)
        for p in alive:
            p.kill()
        self.ingest.close()
        self.search.close()
        if alive:
            raise AssertionError(f"processes left behind after stop: {[p.pid for p in alive]}")
        return code

    def tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- helpers for tests -------------------------------------------------------------
    def post_file(self, path: Path, **fields: str) -> dict[str, Any]:
        with path.open("rb") as fh:
            r = self.ingest.post(
                "/v1/documents", files={"file": (path.name, fh, "text/plain")}, data=fields
            )
        assert r.status_code == 202, r.text
        return dict(r.json())

    def wait_final(self, ids: Iterable[str], timeout: float = 120) -> dict[str, dict[str, Any]]:
        pending = set(ids)
        done: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for doc_id in list(pending):
                r = self.ingest.get(f"/v1/documents/{doc_id}")
                if r.status_code == 200 and r.json()["status"] in FINAL:
                    done[doc_id] = r.json()
                    pending.discard(doc_id)
            if pending:
                time.sleep(0.3)
        if pending:
            states = {
                i: self.ingest.get(f"/v1/documents/{i}").json().get("status") for i in pending
            }
            raise AssertionError(f"not final after {timeout}s: {states}\n{self.tail()}")
        return done
