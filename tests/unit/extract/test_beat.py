"""Beat schedules the sweeper by task name, without loading any stage."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from kombu import Connection

from shared.celery_app import prepare_sqlite_broker
from shared.settings import Settings
from shared.tasks import EXTRACT_QUEUE


def test_beat_imports_no_stage() -> None:
    probe = (
        "import sys, services.extract.beat\n"
        "print(sorted(m for m in sys.modules if m.startswith(('services.extract.', 'scipy'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "['services.extract.beat']"


def test_beat_sends_the_sweeper_to_the_extract_queue(tmp_path: Path) -> None:
    broker = Settings(data_dir=tmp_path).resolved_broker_url
    prepare_sqlite_broker(broker)
    env = {**os.environ, "DATA_DIR": str(tmp_path), "SWEEPER_INTERVAL_SECONDS": "1"}
    env.pop("BROKER_URL", None)
    app = ["-A", "services.extract.beat:celery_app", "beat"]
    options = ["--schedule", str(tmp_path / "schedule"), "--loglevel", "WARNING"]
    beat = subprocess.Popen([sys.executable, "-m", "celery", *app, *options], env=env)
    try:
        deadline = time.monotonic() + 30
        waiting = 0
        while waiting < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            with Connection(broker) as conn:
                waiting = conn.default_channel.queue_declare(EXTRACT_QUEUE, passive=True)[1]
        assert waiting >= 2
    finally:
        beat.terminate()
        beat.wait(20)
