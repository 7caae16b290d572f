"""The worker's parent loads what the stages load lazily, so its forked pool shares it."""

from __future__ import annotations

import subprocess
import sys


def test_warm_up_loads_the_converters_and_the_tagger_before_any_document() -> None:
    # A fresh interpreter: other tests in this process may have loaded them already.
    probe = (
        "from services.extract.cleaning import script\n"
        "from services.extract import metadata\n"
        "from services.extract.warmup import warm_up\n"
        "assert script._converter.cache_info().currsize == 0\n"
        "warm_up()\n"
        "print(script._converter.cache_info().currsize, metadata._tagger.cache_info().currsize)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["2", "1"]
