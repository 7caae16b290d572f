"""Dedupe evaluation: a generated set of labelled copies run through the real stage logic.

From each base text (our generator, `bench/corpus.py`) it builds: an exact copy, a
traditional-script copy, a copy with a different site header/footer, copies with 1–3
edited sentences, a 30–60 % fragment, a template-derived document from another issuer
(must be related, never merged) and an unrelated document on the same topic (the hard
negative). Each goes through cleaning, metadata identity and `deduplicate` against a
fresh SQLite database in arrival order; then precision and recall per relation kind.

`python -m bench.dedupe_eval [bases]`; `make bench` runs it too.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.corpus import PLACES, make_document, to_traditional
from services.extract.cleaning import clean_document
from services.extract.dedupe import DocIdentity, deduplicate
from services.extract.metadata import extract_metadata
from shared.db import dispose_all, session_scope
from shared.migrate import upgrade
from shared.models import Document, Relation, Status

WECHAT_HEADER = "{city}发布 重磅通知!\n"
WECHAT_FOOTER = "\n来源丨{city}发布\n编辑/张三\n免责声明:本号转载内容仅供参考。\n原文链接:https://example.gov.cn/a.html"


def _edit(rng: random.Random, text: str, n: int) -> str:
    lines = text.split("\n")
    body = [i for i, line in enumerate(lines) if len(line) > 40]
    for i in rng.sample(body, min(n, len(body))):
        sentences = lines[i].split("。")
        j = rng.randrange(len(sentences))
        sentences[j] = sentences[j] + ",并结合本地实际抓好落实"
        lines[i] = "。".join(sentences)
    return "\n".join(lines)


def _template_copy(rng: random.Random, text: str, place: tuple[str, str, str]) -> str:
    """Another city's 实施方案 from the same template: new issuer, number and some lines."""
    lines = text.split("\n")
    old_city = next((c for _, c, _ in PLACES if c in lines[0] or c in text[:200]), None)
    new = _edit(rng, "\n".join(lines), 2)
    if old_city:
        new = new.replace(old_city, place[1])
    new_lines = new.split("\n")
    new_lines[1] = f"{place[2]}〔2023〕{rng.randint(1, 99)}号"
    return "\n".join(new_lines)


def build(bases: int, seed: int = 11) -> list[tuple[str, str, str | None]]:
    """(key, text, label) where label is 'kind:base_key' for variants, None for bases."""
    rng = random.Random(seed)
    items: list[tuple[str, str, str | None]] = []
    for b in range(bases):
        base = make_document(rng, f"b{b}", target_chars=rng.choice([1500, 3000, 6000]))
        key = f"b{b}"
        items.append((key, base.text, None))
        other_place = rng.choice([p for p in PLACES if p[1] != base.city])
        fmt = {"city": base.city}
        variants = [
            ("exact", base.text),
            ("script", to_traditional(base.text)),
            ("headerfooter", WECHAT_HEADER.format(**fmt) + base.text + WECHAT_FOOTER.format(**fmt)),
            ("edited", _edit(rng, base.text, rng.randint(1, 3))),
            ("template", _template_copy(rng, base.text, other_place)),
            ("unrelated", make_document(rng, f"u{b}", target_chars=len(base.text)).text),
        ]
        # 30–60 % of the text, cut at line boundaries, from somewhere after the header.
        share = rng.uniform(0.3, 0.6)
        begin = rng.randrange(len(base.text) // 10, int(len(base.text) * (1 - share)))
        begin = base.text.find("\n", begin) + 1
        end = base.text.rfind("\n", begin, begin + int(len(base.text) * share)) or None
        fragment = base.text[begin:end]
        variants.append(("fragment", fragment))
        rng.shuffle(variants)  # arrival order varies: fragments before their source too
        for kind, text in variants:
            items.append((f"{kind}-{b}", text, f"{kind}:{key}"))
    # Interleave so that some variants arrive before their base.
    rng.shuffle(items)
    return items


def evaluate(bases: int = 60) -> dict[str, Any]:
    items = build(bases)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'eval.db'}"
        upgrade(url)
        ids: dict[str, str] = {}
        start = time.perf_counter()
        stage_ms: list[float] = []
        for key, text, _ in items:
            cleaned = clean_document(text)
            meta = extract_metadata(cleaned.text)
            identity = DocIdentity(meta["doc_number"], tuple(meta["issuers"]))
            with session_scope(url, write=True) as s:
                doc = Document(
                    status=Status.DEDUPLICATING,
                    text=cleaned.text,
                    content_hash=cleaned.content_hash,
                )
                s.add(doc)
                s.flush()
                t0 = time.perf_counter()
                outcome = deduplicate(s, doc, identity=identity)
                stage_ms.append((time.perf_counter() - t0) * 1000)
                if outcome.duplicate_of:
                    doc.duplicate_of = outcome.duplicate_of
                    doc.status = Status.DUPLICATE
                doc.cluster_id, doc.is_canonical = outcome.cluster_id, outcome.is_canonical
                ids[key] = doc.id
        elapsed = time.perf_counter() - start
        by_id = {v: k for k, v in ids.items()}
        with session_scope(url) as s:
            docs = {by_id[d.id]: d for d in s.scalars(select(Document))}
            relations = {
                (by_id[r.document_id], by_id[r.other_id]): r.relation
                for r in s.scalars(select(Relation))
            }
        dispose_all()
    return _score(items, docs, relations, stage_ms, elapsed)


def _score(
    items: list[Any],
    docs: dict[str, Any],
    relations: dict[tuple[str, str], str],
    stage_ms: list[float],
    elapsed: float,
) -> dict[str, Any]:
    key_of = {d.id: k for k, d in docs.items()}

    def rep(k: str) -> str:
        """An exact duplicate stands for the document it duplicates."""
        dup = docs[k].duplicate_of
        return key_of[dup] if dup else k

    def linked(a: str, b: str) -> tuple[bool, str | None, bool]:
        """(shown once as an exact copy, relation from a's side, merged into one result)"""
        ra, rb = rep(a), rep(b)
        dup = ra == rb
        ca, cb = docs[ra].cluster_id, docs[rb].cluster_id
        merged = dup or (ca is not None and ca == cb)
        return dup, relations.get((ra, rb)), merged

    hits: dict[str, list[bool]] = defaultdict(list)
    merged_wrongly = 0
    for key, _, label in items:
        if label is None:
            continue
        kind, base = label.split(":")
        dup, rel, merged = linked(key, base)
        if kind in ("exact", "script"):
            hits[kind].append(dup)
        elif kind in ("headerfooter", "edited"):
            hits["near_duplicate"].append(merged or rel == "near_duplicate")
        elif kind == "fragment":
            hits["containment"].append(rel == "contained_in")
        elif kind == "template":
            hits["template_related"].append(rel is not None)
            merged_wrongly += merged
        elif kind == "unrelated":
            merged_wrongly += merged
    truth_near = {
        (k, lbl.split(":")[1])
        for k, _, lbl in items
        if lbl and lbl.split(":")[0] in ("headerfooter", "edited", "template", "exact", "script")
    }
    truth_frag = {
        (k, lbl.split(":")[1]) for k, _, lbl in items if lbl and lbl.startswith("fragment:")
    }
    truth_near |= {(b, a) for a, b in truth_near}
    truth_frag |= {(b, a) for a, b in truth_frag}
    # Copies of one base are near-duplicates of each other too.
    groups: dict[str, list[str]] = defaultdict(list)
    for k, _, lbl in items:
        if lbl and lbl.split(":")[0] in ("headerfooter", "edited", "template", "exact", "script"):
            groups[lbl.split(":")[1]].append(k)
    for members in groups.values():
        truth_near |= {(a, b) for a in members for b in members if a != b}
    frag_groups: dict[str, list[str]] = defaultdict(list)
    for k, _, lbl in items:
        if lbl and lbl.startswith("fragment:"):
            frag_groups[lbl.split(":")[1]].append(k)
    for base, frags in frag_groups.items():
        for f in frags:
            truth_frag |= {(f, m) for m in groups[base]} | {(m, f) for m in groups[base]}
    near_pred = [(a, b) for (a, b), r in relations.items() if r == "near_duplicate"]
    frag_pred = [(a, b) for (a, b), r in relations.items() if r in ("contains", "contained_in")]
    wrong = [(a, b, r) for (a, b), r in relations.items() if (a, b) not in truth_near | truth_frag]
    result = {
        "unexpected_relations": len(wrong),
        "unexpected_sample": wrong[:8],
        "documents": len(items),
        "dedupe_ms_per_doc": round(sum(stage_ms) / len(stage_ms), 2),
        "pipeline_ms_per_doc_incl_clean_extract": round(elapsed * 1000 / len(items), 2),
        "recall": {k: round(sum(v) / len(v), 3) for k, v in sorted(hits.items())},
        "precision": {
            "near_duplicate": round(
                sum(p in truth_near for p in near_pred) / max(1, len(near_pred)), 3
            ),
            "containment": round(
                sum(p in truth_frag for p in frag_pred) / max(1, len(frag_pred)), 3
            ),
        },
        "unrelated_or_template_merged": merged_wrongly,
    }
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(evaluate(int(sys.argv[1]) if len(sys.argv) > 1 else 60), indent=1))
