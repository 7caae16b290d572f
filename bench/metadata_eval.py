"""Per-field precision and recall of metadata extraction on the labelled development set.

`python -m bench.metadata_eval` (also part of `make bench`). Precision: of the values we
output, how many are right (null is not an answer); recall: of the values the documents
have, how many we found. Also times extraction on a ~30 KB document.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from services.extract.metadata import extract_metadata

DEV = Path(__file__).resolve().parents[1] / "tests" / "data" / "metadata_dev.jsonl"
FIELDS = ("title", "doc_number", "issuers", "date", "province", "city", "county", "doc_type")


def evaluate(path: Path = DEV) -> dict[str, Any]:
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    stats = {f: {"tp": 0, "fp": 0, "fn": 0} for f in FIELDS}
    for case in cases:
        got = extract_metadata(case["text"])
        for f in FIELDS:
            want, have = case["expected"][f], got[f]
            if have not in (None, []):
                stats[f]["tp" if have == want else "fp"] += 1
            if want not in (None, []) and have != want:
                stats[f]["fn"] += 1
    return {
        "documents": len(cases),
        "fields": {
            f: {
                "precision": round(s["tp"] / max(1, s["tp"] + s["fp"]), 3),
                "recall": round(s["tp"] / max(1, s["tp"] + s["fn"]), 3),
            }
            for f, s in stats.items()
        },
        "ms_per_30kb_document": round(_time_30kb(), 2),
    }


def _time_30kb() -> float:
    from bench.corpus import make_document
    from services.extract.cleaning import clean_document

    text = clean_document(make_document(random.Random(3), "t", target_chars=10_000).text).text
    extract_metadata(text)  # warm caches (gazetteer, tagger)
    start = time.perf_counter()
    for _ in range(10):
        extract_metadata(text)
    return (time.perf_counter() - start) * 100  # ms per call


if __name__ == "__main__":
    print(json.dumps(evaluate(), ensure_ascii=False, indent=1))
