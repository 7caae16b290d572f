"""The embedded engine across processes: one writer (indexer), readers (search API)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import tantivy

from services.search.engines import create_engine
from services.search.engines.base import IndexDocument, SearchQuery
from services.search.engines.embedded import KEYWORDS, EmbeddedEngine
from shared.runtime import run_async
from shared.settings import Settings

REPO = Path(__file__).resolve().parents[3]


def _doc(i: int, title: str = "关于推进产教融合的通知") -> IndexDocument:
    return IndexDocument(id=f"d{i}", title=title, text=f"第{i}号文件:深化校企合作。")


def _write_in_another_process(path: Path, doc_id: str, title: str) -> None:
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from services.search.engines.base import IndexDocument
        from services.search.engines.embedded import EmbeddedEngine
        from shared.runtime import run_async
        engine = EmbeddedEngine(Path({str(path)!r}), writable=True)
        run_async(engine.index([IndexDocument(id={doc_id!r}, title={title!r}, text="正文")]))
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=60)


def test_a_reader_sees_another_process_commits_without_reopening(tmp_path: Path) -> None:
    path = tmp_path / "index"
    EmbeddedEngine(path, writable=True)
    reader = EmbeddedEngine(path, writable=False)
    assert run_async(reader.search(SearchQuery(text="乡村振兴"))).total == 0
    _write_in_another_process(path, "x1", "成都市乡村振兴促进办法")
    assert [h.id for h in run_async(reader.search(SearchQuery(text="乡村振兴"))).hits] == ["x1"]
    _write_in_another_process(path, "x2", "天水市乡村振兴实施方案")
    assert run_async(reader.search(SearchQuery(text="乡村振兴"))).total == 2
    assert run_async(reader.contains("x2")) and not run_async(reader.contains("x3"))


def test_a_reader_before_any_index_answers_empty(tmp_path: Path) -> None:
    reader = EmbeddedEngine(tmp_path / "nothing-yet", writable=False)
    assert run_async(reader.search(SearchQuery(text="产教融合"))).total == 0
    assert run_async(reader.count()) == 0
    assert run_async(reader.health()).ok
    assert run_async(reader.suggest("产教"))[0].kind == "term"  # dictionary terms still


def test_rebuild_keeps_readers_answering(tmp_path: Path) -> None:
    path = tmp_path / "index"
    writer = EmbeddedEngine(path, writable=True)
    run_async(writer.index([_doc(i) for i in range(50)]))
    reader = EmbeddedEngine(path, writable=False)
    totals: list[int] = []
    stop = threading.Event()

    def keep_searching() -> None:
        while not stop.is_set():
            totals.append(run_async(reader.search(SearchQuery(text="产教融合"))).total)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        batches = ([_doc(i) for i in range(b, b + 20)] for b in range(0, 80, 20))
        run_async(writer.rebuild(batches))
    finally:
        stop.set()
        searcher.join()
    assert totals and all(t in (50, 80) for t in totals)  # never empty, never an error
    assert run_async(reader.search(SearchQuery(text="产教融合"))).total == 80
    generations = [p.name for p in path.iterdir() if p.name.startswith("gen-")]
    assert len(generations) == 1  # the old one was removed


def test_create_engine_follows_the_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, search_engine="embedded")
    engine = create_engine(settings, writable=True)
    assert isinstance(engine, EmbeddedEngine) and engine.path == tmp_path / "index"


def _schema_before_pairs() -> tantivy.Schema:
    """The embedded schema as built before the `*_grams` fields (schema version 1)."""
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in ("title_terms", "text_terms"):
        b.add_text_field(name, tokenizer_name="whitespace", index_option="freq")
    for name in ("title_chars", "text_chars"):
        b.add_text_field(name, tokenizer_name="whitespace", index_option="position")
    for name in KEYWORDS:
        b.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    for name in ("year", "date_num", "date_asc", "date_desc", "canonical"):
        b.add_integer_field(name, indexed=True, fast=True)
    b.add_bytes_field("payload", stored=True)
    return b.build()


def test_an_index_from_before_the_pairs_field_still_answers_until_reindexed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "index"
    (path / "gen-1").mkdir(parents=True)
    tantivy.Index(_schema_before_pairs(), path=str(path / "gen-1"))
    (path / "CURRENT").write_text("gen-1")
    docs = [
        IndexDocument(
            id="gs", title="关于推进产教融合的通知", text="深化校企合作。", province="甘肃省"
        ),
        IndexDocument(
            id="sc", title="关于推进产教融合的意见", text="推进产教融合。", province="四川省"
        ),
    ]
    old = EmbeddedEngine(path, writable=True)
    run_async(old.index(docs))
    reader = EmbeddedEngine(path, writable=False)

    def found(**query: object) -> list[str]:
        return sorted(h.id for h in run_async(reader.search(SearchQuery(**query))).hits)  # type: ignore[arg-type]

    assert found(text='"推进产教融合"') == ["gs", "sc"]
    assert found(text='"深化校企"') == ["gs"]
    # The keyword fields kept their numbers: a filter finds the right document.
    assert found(text="产教融合", province=["甘肃省"]) == ["gs"]
    assert "reindex" in run_async(reader.health()).detail

    run_async(old.rebuild([docs]))
    assert found(text='"深化校企"') == ["gs"]
    assert found(text="产教融合", province=["四川省"]) == ["sc"]
    assert "reindex" not in run_async(reader.health()).detail


def test_a_reindexed_document_shows_its_new_text_not_the_remembered_one(tmp_path: Path) -> None:
    # Hits' parsed payloads are remembered between searches: a re-indexed document must
    # show (and highlight) what it says now.
    engine = EmbeddedEngine(tmp_path / "index")
    run_async(engine.index([IndexDocument(id="d1", title="关于推进产教融合的通知", text="旧文")]))
    first = run_async(engine.search(SearchQuery(text="产教融合"))).hits[0]
    assert first.title == "关于推进产教融合的通知"
    run_async(engine.index([IndexDocument(id="d1", title="關於深化產教融合的意見", text="新文")]))
    (hit,) = run_async(engine.search(SearchQuery(text="产教融合"))).hits
    assert hit.title == "關於深化產教融合的意見"
    assert hit.highlights["title"] == ["關於深化<em>產教融合</em>的意見"]
