"""Decode bytes of unknown encoding into text, and reject what is not text.

Order matters for Chinese: BOMs first, then strict UTF-8 (never wrong when it succeeds on
non-ASCII text), then charset-normalizer restricted to the encodings Chinese documents
really use, then GB18030 as the fallback (MEASUREMENTS.md: the detector returned None on
1 of 50 GBK documents). Short texts are where detectors guess wrong between GBK and Big5,
so the candidate that yields more common simplified/traditional characters wins a tie.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from shared.formats.errors import BinaryContent, EmptyText, UndecodableText

CHINESE_ENCODINGS = ["gb18030", "big5", "utf_16", "utf_8"]
BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "big5hkscs": "big5"}


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str
    encoding: str


def decode_text(data: bytes, *, declared: str | None = None) -> DecodedText:
    if not data.strip():
        raise EmptyText("The file is empty.")
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return _checked(utf16)
        raise BinaryContent("The file contains NUL bytes: it looks binary, not text.")
    for bom, name in BOMS:
        if data.startswith(bom):
            return _checked(_try(data, name) or _fail())
    if declared and (text := _try(data, ALIASES.get(declared.lower(), declared))):
        return _checked(DecodedText(text.text, _name(declared)))
    if utf8 := _try(data, "utf-8"):
        return _checked(utf8)
    return _checked(_detect(data))


def _try(data: bytes, encoding: str) -> DecodedText | None:
    try:
        return DecodedText(data.decode(encoding), _name(encoding))
    except (UnicodeDecodeError, LookupError):
        return None


def _name(encoding: str) -> str:
    return codecs.lookup(ALIASES.get(encoding.lower(), encoding)).name


def _utf16_without_bom(data: bytes) -> DecodedText | None:
    # UTF-16 without BOM: NULs in every other byte for ASCII, valid decode overall.
    for name in ("utf-16-le", "utf-16-be"):
        decoded = _try(data, name)
        if decoded and _cjk_share(decoded.text) + _ascii_share(decoded.text) > 0.8:
            return DecodedText(decoded.text, name)
    return None


def _detect(data: bytes) -> DecodedText:
    candidates: list[DecodedText] = []
    best = from_bytes(data, cp_isolation=CHINESE_ENCODINGS).best()
    if best is not None and best.encoding:
        candidates.append(DecodedText(str(best), _name(best.encoding)))
    for name in ("gb18030", "big5"):
        if decoded := _try(data, name):
            candidates.append(decoded)
    if not candidates:
        raise UndecodableText(
            "The text is not valid UTF-8, UTF-16, GB18030/GBK or Big5; "
            "save it in one of those encodings."
        )
    return max(candidates, key=lambda c: _plausibility(c.text))


def _plausibility(text: str) -> float:
    """Share of characters that are common CJK or ASCII: wrong decodes produce rare ones."""
    if not text:
        return 0.0
    common = sum(
        1
        for ch in text
        if _is_common_cjk(ch) or ch.isascii() or ch in "，。、；：？！“”（）《》〔〕"
    )
    return common / len(text)


def _is_common_cjk(ch: str) -> bool:
    # Frequent Han characters live in the GB2312 repertoire; encoding into GB2312 is a
    # cheap test for "common simplified or traditional character".
    if not "\u4e00" <= ch <= "\u9fff":
        return False
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        try:
            ch.encode("big5")
            return True
        except UnicodeEncodeError:
            return False


def _cjk_share(text: str) -> float:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") / max(1, len(text))


def _ascii_share(text: str) -> float:
    return sum(1 for ch in text if ch.isascii() and (ch.isprintable() or ch in "\r\n\t")) / max(
        1, len(text)
    )


def _fail() -> DecodedText:
    raise UndecodableText("The text does not decode in the encoding its byte-order mark names.")


def _checked(decoded: DecodedText) -> DecodedText:
    check_text(decoded.text)
    return decoded


# Unicode categories Cc (C0 and C1 controls) and Co (private use), whose ranges the
# standard fixes; Cs (surrogates) cannot remain once the text encodes to UTF-8. One regex
# scan instead of `unicodedata.category` per character: that loop was a fifth of the ingest
# process's CPU during a bulk load (~0.15 µs a character, every document checked twice).
UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\U000f0000-\U000ffffd"
    "\U00100000-\U0010fffd\ufffd]"
)


def check_text(text: str) -> None:
    """Reject empty, whitespace-only, and mostly-control-character text, and any NUL.

    A NUL never occurs in a real document, and PostgreSQL text cannot hold one: letting
    it through would fail the document later in the pipeline instead of at the door.
    """
    stripped = text.strip()
    if not stripped:
        raise EmptyText("The document has no text (empty or whitespace only).")
    if "\x00" in text:
        raise BinaryContent("The text contains NUL characters (U+0000): it looks binary, not text.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UndecodableText(
            "The text contains unpaired surrogate code points; it is not valid Unicode."
        ) from exc
    sample = stripped[:20000]
    unprintable = sum(1 for _ in UNPRINTABLE.finditer(sample))  # replacement chars too
    if unprintable / len(sample) > 0.1:
        raise BinaryContent(
            "The text is mostly control or unprintable characters: it looks binary, not text."
        )
