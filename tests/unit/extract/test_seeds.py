"""The five real scraped seeds beside the repository (skipped where the folder is absent).

Checks what a user sees: no pinyin annotations left, simplified script, every kind of
boilerplate gone, the body intact (the key sentences of each seed are still there, in
order), the 原文链接 kept as source_url; and the metadata the issue names.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from services.extract.cleaning import clean_document
from services.extract.cleaning.script import to_simplified
from services.extract.metadata import extract_metadata
from shared.formats import decode_text

SEEDS = Path(
    os.environ.get("POLICY_SEARCH_SEEDS")
    or Path(__file__).resolve().parents[4] / "shared" / "seeds"
)
pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"no seeds folder at {SEEDS}")
PINYIN = re.compile(r"[\u4e00-\u9fff]\((?:[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*)\)")
# Any tone-marked syllable closed by `)`: also what is left where the site damaged the text.
TONED_RESIDUE = re.compile(r"[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*[)）]")
BOILERPLATE = (
    "免责声明",
    "版权归原作者所有",
    "来源丨",
    "编辑/",
    "最新加入",
    "热门资讯",
    "原文链接",
)


def _bare(line: str) -> str:
    """Without spaces and without the annotations left where the site damaged the text."""
    return re.sub(r"\s+", "", re.sub(rf"[(（]?{TONED_RESIDUE.pattern}", "", line))


def _seeds() -> list[Path]:
    return sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []


@pytest.fixture(scope="module")
def cleaned() -> dict[str, object]:
    return {p.name: clean_document(decode_text(p.read_bytes()).text) for p in _seeds()}


def test_no_annotations_simplified_and_no_boilerplate(cleaned: dict[str, object]) -> None:
    assert len(cleaned) == 5
    for name, r in cleaned.items():
        text = r.text  # type: ignore[attr-defined]
        assert not PINYIN.search(text), name
        assert not TONED_RESIDUE.search(text), name
        assert to_simplified(text) == text, name  # nothing left to simplify
        for marker in BOILERPLATE:
            assert marker not in text, (name, marker)


def test_body_is_intact(cleaned: dict[str, object]) -> None:
    """Every prose line of each raw seed (> 40 characters, not a disclaimer, copyright or
    link line), simplified and stripped of annotations, is in the cleaned text whole (spaces
    aside: broken lines are joined): nothing of the body was cut."""
    for p in _seeds():
        raw = decode_text(p.read_bytes()).text
        expected = re.sub(r"\s+", "", clean_document(raw).text)
        prose = [
            line.strip()
            for line in raw.split("\n")
            if len(line.strip()) > 40
            and not any(m in line for m in (*BOILERPLATE, "版权", "侵权", "本公众平台"))
        ]
        kept = sum(
            1
            for line in prose
            if _bare(to_simplified(PINYIN.sub(lambda m: m.group()[0], line))) in expected
        )
        assert prose and kept == len(prose), (p.name, kept, len(prose))


def test_source_url_is_kept(cleaned: dict[str, object]) -> None:
    assert any(r.source_url for r in cleaned.values())  # type: ignore[attr-defined]


def test_metadata_of_the_named_seeds(cleaned: dict[str, object]) -> None:
    metas = {name: extract_metadata(r.text) for name, r in cleaned.items()}  # type: ignore[attr-defined]
    lanzhou = next(m for m in metas.values() if m["doc_number"] == "兰政发〔2021〕13号")
    assert (lanzhou["date"], lanzhou["province"], lanzhou["city"]) == (
        "2021-03-22",
        "甘肃省",
        "兰州市",
    )
    assert any(m["province"] == "内蒙古自治区" and m["city"] == "兴安盟" for m in metas.values())
    jiangjin = next(m for m in metas.values() if m["county"] == "江津区")
    assert jiangjin["province"] == "重庆市" and jiangjin["date"] is None
