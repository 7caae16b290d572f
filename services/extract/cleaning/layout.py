"""Whitespace and line structure: one paragraph per line, broken sentences joined.

Hand-written because the rules are about Chinese official documents: keep Chinese
punctuation (no NFKC of full-width punctuation), keep headings (`一、`, `(一)`, `1.`),
table rows and the header block (title lines, 发文字号, date) as separate lines, and
join only body lines that a PDF or a page width broke in the middle of a sentence.
"""

from __future__ import annotations

import re
import unicodedata

from services.extract.cleaning.boilerplate import STRUCTURE

SENTENCE_END = tuple("。！？；：!?;:…」』）)")
INVISIBLE = re.compile(r"[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\ufeff\u00ad]")
SPACES = re.compile(r"[ \t\u00a0\u3000\u2002-\u200a]+")
HAN = r"[\u3400-\u9fff\uf900-\ufaff]"
SPACE_BETWEEN_HAN = re.compile(rf"(?<={HAN})[ \t\u00a0\u3000]+(?={HAN})")
# Header block lines that must never be glued to the next one.
HEADER_LINE = re.compile(
    r"〔\d{4}〕|\[\d{4}\]|^\s*\S{0,30}(?:人民政府|办公厅|办公室|委员会|厅|局|部)\s*$|"
    r"\d{4}年\d{1,2}月\d{1,2}日\s*$|[二〇○零一二三四五六七八九十]{4}年.{1,3}月.{1,4}日\s*$|[:：]\s*$"
)


def normalize_characters(text: str) -> str:
    """NFC, no invisible characters, unified newlines; punctuation left as written."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return INVISIBLE.sub("", text)


def tidy_line(line: str) -> str:
    line = SPACES.sub(" ", line).strip()
    # Spaces between Han characters are layout (justified PDFs), except in a title like
    # `教育部 甘肃省人民政府` where they separate issuers: keep a single one there.
    return line


def join_broken_lines(lines: list[str]) -> tuple[list[str], int]:
    """Join body lines broken mid-sentence; returns (lines, joins made)."""
    out: list[str] = []
    joins = 0
    header = True
    for line in lines:
        if header and (len(line) >= 60 or line.endswith("。")):
            header = False
        if out and not header and _continues(out[-1], line):
            out[-1] += line
            joins += 1
        else:
            out.append(line)
    return out, joins


def _continues(previous: str, line: str) -> bool:
    if previous.endswith(SENTENCE_END) or "|" in previous or "|" in line:
        return False
    if STRUCTURE.match(line) or HEADER_LINE.search(previous) or HEADER_LINE.search(line):
        return False
    if STRUCTURE.match(previous) and len(previous) <= 30:
        return False  # a heading
    return len(previous) >= 20
