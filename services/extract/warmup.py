"""Load what the stages load on first use (segmenter and tagger dictionaries, script
converters, compiled tables) in the worker's parent, before it forks its pool.

Loaded lazily, each pool process paid for them on its first documents, during a bulk
load, and kept a private copy; loaded before the fork, the children share those pages.
"""

from __future__ import annotations

from services.extract.cleaning import clean_document
from services.extract.dedupe.signatures import signature
from services.extract.metadata import extract_metadata
from shared.formats import decode_text

# Traditional script (both converters), a header, a number, a date: every stage's path.
SAMPLE = (
    "關於推進職業教育產教融合的實施意見\n滬府辦發〔2026〕12號\n"
    "各區人民政府,市政府各委、辦、局:\n為深化產教融合,推動校企合作,現提出如下意見。\n"
    "一、總體要求\n(一)完善職業院校專業設置。\n上海市人民政府辦公廳\n2026年3月1日\n"
)


def warm_up() -> None:
    decoded = decode_text(SAMPLE.encode("gb18030"))
    cleaned = clean_document(decoded.text)
    extract_metadata(cleaned.text)
    signature(cleaned.text, threshold=0.5)
