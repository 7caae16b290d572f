"""The embedded engine: tantivy on local disk, analysed the IK way in Python.

Fields (the same ones the Elasticsearch mapping has):
- `title_terms`, `text_terms`: `max_word` tokens (fine-grained, overlapping), frequencies
  only: what relevance runs on; `smart` query tokens are a subset of them.
- `title_chars`, `text_chars`: one token per Han character (Latin/digit runs whole):
  single-character queries.
- `title_grams`, `text_grams`: overlapping pairs of those characters, with positions:
  phrases, tokens the dictionary splits differently in context, and 发文字号 in running
  text match here, as a phrase of pairs (a two-character phrase is one term). IK's
  pitfall (phrases over `ik_max_word` break because overlapping tokens shift positions)
  does not arise here, and pairs are ~100× rarer than single characters, so a phrase
  costs a few ms at 100k documents instead of 50 (single characters with positions).
- keyword fields for filters and facets (`province`, `city`, `county`, `doc_type`,
  `issuer`, `topic`, `doc_number` normalised to 〔〕), integer dates for ranges and sorts,
  `canonical` to hide cluster copies, and one stored JSON `payload` for display.

Layout on disk: `<dir>/CURRENT` names the live generation `<dir>/gen-<n>/`, whose
`SCHEMA_VERSION` file says which fields it has (an index built before the `*_grams`
fields answers phrases on `*_chars` positions until `policy-search reindex`); `rebuild`
writes a new generation and swaps CURRENT atomically (os.replace), so readers in other
processes keep answering from the old one until they see the switch. Writers take the
index's lock per call (released at once) so `policy-search reindex` and the indexer can
both write; a lock held too long is reported as `EngineUnavailable` (work waits, nothing
fails).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import tantivy
from tantivy import Occur, Query

from services.search.analysis import Analyzer, get_analyzer
from services.search.engines.base import (
    FACET_FIELDS,
    FACET_OWN_FILTER,
    EngineHealth,
    EngineUnavailable,
    FacetValue,
    IndexDocument,
    SearchHit,
    SearchQuery,
    SearchResult,
    Suggestion,
)
from services.search.engines.facet_cache import StateCache, facet_key
from services.search.engines.stored_hits import ParsedCache
from services.search.highlight import highlight
from services.search.query import ParsedQuery, Term, parse_query

log = logging.getLogger(__name__)
T = TypeVar("T")

KEYWORDS = ("province", "city", "county", "doc_type", "issuer", "topic", "doc_number", "cluster")
FACET_SOURCE = {
    "province": "province",
    "city": "city",
    "doc_type": "doc_type",
    "year": "year",
    "issuer": "issuer",
    "topic": "topic",
}
NO_DATE_ASC = 99_999_999  # documents without a date sort last both ways
WRITER_HEAP = 64_000_000
LOCK_WAIT_S = 3.0
TITLE_BOOST = 3.0
FACET_SIZE = 30  # values per facet
_FACET_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="facets")
# A document's topics are also written one per slot field, every slot filled (NO_TOPIC when
# it has fewer): tantivy counts a dense single-valued column ~7× faster than a multi-valued
# one (topic facet 3.2 → 0.5 ms per pass at 100k documents). Extraction gives at most five
# topics; an index holding a document with more (set by its submitter) counts on `topic`.
TOPIC_SLOTS = 5
NO_TOPIC = "\x00"  # never a topic: ingest rejects NUL characters
SLOT_TERMS = 10_000  # buckets per slot: every topic, so the merged counts are exact


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in ("title_terms", "text_terms"):
        b.add_text_field(name, tokenizer_name="whitespace", index_option="freq")
    for name in ("title_chars", "text_chars"):
        b.add_text_field(name, tokenizer_name="whitespace", index_option="freq")
    for name in KEYWORDS:
        b.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    for name in ("year", "date_num", "date_asc", "date_desc", "canonical"):
        b.add_integer_field(name, indexed=True, fast=True)
    b.add_bytes_field("payload", stored=True)
    # Added last, so the fields above keep their numbers in an index built before them.
    for name in ("title_grams", "text_grams"):
        b.add_text_field(name, tokenizer_name="whitespace", index_option="position")
    # Schema 3: the topic facet counted over single-valued slots (see `_topic_slots`).
    for i in range(TOPIC_SLOTS):
        b.add_text_field(f"topic_{i}", tokenizer_name="raw", fast=True, index_option="basic")
    b.add_text_field("topic_more", tokenizer_name="raw", index_option="basic")
    return b.build()


SCHEMA = _schema()
# 3: topic slots (faster topic facet). 2: `*_grams` fields added (phrases on character
# pairs). 1 (no file): phrases on `*_chars`.
SCHEMA_VERSION = 3
SCHEMA_FILE = "SCHEMA_VERSION"


def _pairs(chars: Sequence[str]) -> list[str]:
    return [a + b for a, b in pairwise(chars)]


class EmbeddedEngine:
    name = "embedded"

    def __init__(
        self, path: Path, *, writable: bool = True, analyzer: Analyzer | None = None
    ) -> None:
        self.path = Path(path)
        self.writable = writable
        self.analyzer = analyzer or get_analyzer()
        self._lock = threading.Lock()  # writers, one at a time in this process
        self._open_lock = threading.Lock()  # (re)opening the live index
        self._index: tantivy.Index | None = None
        self._generation: str | None = None
        self._meta_stamp: tuple[int, int] = (0, 0)
        self._path_str = str(self.path)
        self._current_file = str(self.path / "CURRENT")
        self._current_stamp: tuple[int, int] = (0, 0)
        self._current_cached: str | None = None
        self._schema_version = SCHEMA_VERSION
        self._facet_cache: StateCache[_Counts] = StateCache()
        self._stored: ParsedCache[_StoredHit] = ParsedCache(
            lambda raw: _StoredHit(raw, self.analyzer)
        )
        if writable:
            self.path.mkdir(parents=True, exist_ok=True)
            if self._current_name() is None:
                self._switch_to(self._new_generation())

    # --- generations --------------------------------------------------------------
    def _live_name(self) -> str | None:
        """`_current_name`, read again only when CURRENT was replaced (checked per search:
        a stat is a fraction of opening and reading the file)."""
        try:
            st = os.stat(self._current_file)
        except OSError:
            return None
        stamp = (st.st_ino, st.st_mtime_ns)
        if stamp != self._current_stamp:
            self._current_cached = self._current_name()
            self._current_stamp = stamp
        return self._current_cached

    def _current_name(self) -> str | None:
        try:
            return (self.path / "CURRENT").read_text().strip() or None
        except OSError:
            return None

    def _new_generation(self) -> str:
        name = f"gen-{time.time_ns()}"
        (self.path / name).mkdir(parents=True)
        tantivy.Index(SCHEMA, path=str(self.path / name))
        (self.path / name / SCHEMA_FILE).write_text(str(SCHEMA_VERSION))
        return name

    def _switch_to(self, name: str) -> None:
        tmp = self.path / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(name)
        os.replace(tmp, self.path / "CURRENT")

    def _open(self) -> tantivy.Index:
        """The live index, reopened when CURRENT moved and reloaded when it committed."""
        with self._open_lock:
            return self._open_unlocked()

    def _open_state(self) -> tuple[tantivy.Index, tuple[str | None, tuple[int, int]]]:
        """The live index and the state it was loaded at (generation, last commit)."""
        with self._open_lock:
            index = self._open_unlocked()
            return index, (self._generation, self._meta_stamp)

    def _open_unlocked(self) -> tantivy.Index:
        name = self._live_name()
        if name is None:
            raise EngineUnavailable(f"no index at {self.path} yet")
        if name != self._generation or self._index is None:
            try:
                self._index = tantivy.Index.open(str(self.path / name))
            except ValueError as exc:
                raise EngineUnavailable(f"cannot open the index: {exc}") from exc
            self._generation = name
            self._meta_stamp = (0, 0)
            try:
                self._schema_version = int((self.path / name / SCHEMA_FILE).read_text())
            except (OSError, ValueError):
                self._schema_version = 1
        try:
            # Every commit rewrites meta.json; nanoseconds and size tell two commits apart.
            st = os.stat(os.path.join(self._path_str, name, "meta.json"))
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = (0, 0)
        if stamp != self._meta_stamp:
            self._index.reload()
            self._meta_stamp = stamp
        return self._index

    def _writer(self, index: tantivy.Index) -> tantivy.IndexWriter:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                return index.writer(heap_size=WRITER_HEAP, num_threads=1)
            except ValueError as exc:  # LockBusy: another process is writing
                if time.monotonic() > deadline:
                    raise EngineUnavailable(f"index locked by another writer: {exc}") from exc
                time.sleep(0.05)

    async def _run(self, fn: Callable[[], T], *, write: bool = False) -> T:
        """Blocking work in a thread; searches run concurrently (tantivy searchers are
        thread-safe and release the GIL), writes one at a time."""
        if not write:
            return await asyncio.to_thread(fn)

        def locked() -> T:
            with self._lock:
                return fn()

        return await asyncio.to_thread(locked)

    # --- writing ----------------------------------------------------------------------
    def _document(self, doc: IndexDocument, *, schema: int = SCHEMA_VERSION) -> tantivy.Document:
        a = self.analyzer
        title_n, text_n = a.normalize(doc.title), a.normalize(doc.text)
        d = tantivy.Document()
        d.add_text("id", doc.id)
        d.add_text("title_terms", " ".join(a.index_terms(title_n)))
        d.add_text("text_terms", " ".join(a.index_terms(text_n)))
        for base, normalized in (("title", title_n), ("text", text_n)):
            chars = a.search_chars(normalized)
            d.add_text(f"{base}_chars", " ".join(chars))
            if schema >= 2:
                d.add_text(f"{base}_grams", " ".join(_pairs(chars)))
        for field, values in (
            ("province", [doc.province]),
            ("city", [doc.city]),
            ("county", [doc.county]),
            ("doc_type", [doc.doc_type]),
            ("issuer", doc.issuers),
            ("topic", doc.topics),
            ("doc_number", [doc.doc_number]),
            ("cluster", [doc.cluster_id]),
        ):
            for value in values:
                if value:
                    d.add_text(field, value)
        if schema >= 3:
            topics = list(dict.fromkeys(t for t in doc.topics if t))
            for i in range(TOPIC_SLOTS):
                d.add_text(f"topic_{i}", topics[i] if i < len(topics) else NO_TOPIC)
            if len(topics) > TOPIC_SLOTS:
                d.add_text("topic_more", "1")
        if doc.date:
            num = doc.date.year * 10000 + doc.date.month * 100 + doc.date.day
            d.add_integer("year", doc.date.year)
            d.add_integer("date_num", num)
            d.add_integer("date_asc", num)
            d.add_integer("date_desc", num)
        else:
            d.add_integer("date_asc", NO_DATE_ASC)
            d.add_integer("date_desc", 0)
        d.add_integer("canonical", 1 if doc.is_canonical else 0)
        payload = {
            "title": doc.title,
            "text": doc.text,
            "doc_number": doc.doc_number,
            "issuers": doc.issuers,
            "date": doc.date.isoformat() if doc.date else None,
            "province": doc.province,
            "city": doc.city,
            "doc_type": doc.doc_type,
            "cluster_id": doc.cluster_id,
            "duplicates_count": doc.duplicates_count,
            "dictionary_version": doc.dictionary_version,
            # Highlighting folds the stored text again per hit; script conversion, most
            # of that cost, is skipped where indexing found nothing to convert.
            "simplified": title_n == a.fold(doc.title) and text_n == a.fold(doc.text),
        }
        d.add_bytes("payload", json.dumps(payload, ensure_ascii=False).encode())
        return d

    async def index(self, docs: Sequence[IndexDocument]) -> None:
        if not docs:
            return
        built = self._build(docs)  # outside the writer lock
        await self._run(lambda: self._write(docs, built), write=True)

    def _build(self, docs: Sequence[IndexDocument]) -> list[tantivy.Document]:
        """The analysis half of `index` (also timed alone by the bench's stage ceiling)."""
        self._open()  # which fields the live generation has
        schema = self._schema_version
        return [self._document(d, schema=schema) for d in docs]

    def _write(self, docs: Sequence[IndexDocument], built: list[tantivy.Document]) -> None:
        """The writing half of `index`, under the writer lock: upsert `_build`'s documents,
        commit, reload."""
        index = self._open()
        writer = self._writer(index)
        try:
            for doc, tdoc in zip(docs, built, strict=True):
                writer.delete_documents_by_term("id", doc.id)  # upsert by id
                writer.add_document(tdoc)
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        index.reload()

    async def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return

        def remove() -> None:
            index = self._open()
            writer = self._writer(index)
            for doc_id in ids:
                writer.delete_documents_by_term("id", doc_id)
            writer.commit()
            writer.wait_merging_threads()
            index.reload()

        await self._run(remove, write=True)

    async def rebuild(self, batches: Iterable[Sequence[IndexDocument]]) -> None:
        name = await self._run(self._new_generation, write=True)
        target = tantivy.Index.open(str(self.path / name))
        writer = self._writer(target)
        for batch in batches:
            built = [self._document(d) for d in batch]
            for tdoc in built:
                writer.add_document(tdoc)
        writer.commit()
        writer.wait_merging_threads()
        old = self._current_name()
        self._switch_to(name)
        log.info("embedded index rebuilt as %s (was %s)", name, old)
        if old and old != name:
            # Readers re-check CURRENT on every request; give in-flight ones a moment.
            await asyncio.sleep(1.0)
            shutil.rmtree(self.path / old, ignore_errors=True)

    # --- reading ------------------------------------------------------------------------
    async def health(self) -> EngineHealth:
        def check() -> EngineHealth:
            try:
                n = self._open().searcher().num_docs
            except EngineUnavailable as exc:
                if not self.writable and not (self.path / "CURRENT").exists():
                    return EngineHealth(True, self.name, "empty: nothing indexed yet")
                return EngineHealth(False, self.name, str(exc))
            detail = f"{n} documents at {self.path}"
            if self._schema_version < SCHEMA_VERSION:
                detail += (
                    " (built by an older version: run `policy-search reindex` for faster"
                    " phrases and facets)"
                )
            return EngineHealth(True, self.name, detail)

        return await self._run(check)

    async def count(self) -> int:
        def n() -> int:
            try:
                return int(self._open().searcher().num_docs)
            except EngineUnavailable:
                return 0

        return await self._run(n)

    async def contains(self, doc_id: str) -> bool:
        def has() -> bool:
            try:
                searcher = self._open().searcher()
            except EngineUnavailable:
                return False
            return bool(searcher.doc_freq("id", doc_id))

        return await self._run(has)

    async def search(self, query: SearchQuery) -> SearchResult:
        parsed = parse_query(query.text, self.analyzer)
        return await self._run(lambda: self._search(query, parsed))

    def _search(self, query: SearchQuery, parsed: ParsedQuery) -> SearchResult:
        empty = SearchResult(0, [], {f: [] for f in FACET_FIELDS}, parsed.normalized, parsed.tokens)
        try:
            index, state = self._open_state()
        except EngineUnavailable:
            if self.writable or (self.path / "CURRENT").exists():
                raise
            return empty
        searcher = index.searcher()
        text_query = self._text_query(parsed, searcher)
        if text_query is None:
            return empty
        filters = self._filters(query)
        hidden = [] if query.include_duplicates else [_copies()]
        full = _must([text_query, *(f for f, _ in filters.values())], exclude=hidden)
        key = facet_key(query)
        cached = self._facet_cache.get(state, key)
        # The facets re-run the query in tantivy (the GIL is released): in another thread
        # they overlap the ranked search instead of following it (−40 % latency on 10k
        # docs). They also count the total, so the ranked search does not.
        counting = (
            None
            if cached is not None
            else _FACET_POOL.submit(self._facets, searcher, text_query, filters, hidden)
        )
        offset = (query.page - 1) * query.size
        sort = query.sort
        if sort == "relevance" and parsed.is_empty:
            sort = "date_desc"  # nothing to rank by: newest first
        if sort == "relevance":
            result = searcher.search(full, limit=query.size, offset=offset, count=False)
        else:
            field, order = (
                ("date_desc", tantivy.Order.Desc)
                if sort == "date_desc"
                else ("date_asc", tantivy.Order.Asc)
            )
            result = searcher.search(
                full,
                limit=query.size,
                offset=offset,
                count=False,
                order_by_field=field,
                order=order,
            )
        terms = parsed.highlight_terms()
        hits = [
            self._hit(searcher.doc(address), score if sort == "relevance" else 0.0, terms)
            for score, address in result.hits
        ]
        if counting is not None:
            cached = counting.result()
            self._facet_cache.put(state, key, cached)
        assert cached is not None
        return SearchResult(
            total=cached.total,
            hits=hits,
            facets=dict(cached.facets),
            normalized_query=parsed.normalized,
            query_tokens=parsed.tokens,
        )

    def _hit(self, doc: tantivy.Document, score: float, terms: list[str]) -> SearchHit:
        stored = self._stored.get(_stored_payload(doc))
        p = stored.payload
        title, text = p["title"] or "", p["text"] or ""
        highlights: dict[str, list[str]] = {}
        if terms:
            if marked := highlight(title, stored.title_normalized, terms, whole=True):
                highlights["title"] = marked
            if marked := highlight(text, stored.text_normalized, terms):
                highlights["text"] = marked
        return SearchHit(
            id=str(doc.get_first("id")),
            score=round(float(score), 4),
            title=title,
            doc_number=p["doc_number"],
            issuers=p["issuers"] or [],
            date=date.fromisoformat(p["date"]) if p["date"] else None,
            province=p["province"],
            city=p["city"],
            doc_type=p["doc_type"],
            highlights=highlights,
            duplicates_count=int(p.get("duplicates_count") or 0),
        )

    # --- query building -------------------------------------------------------------
    def _chars(self, base: str, normalized: str) -> Query | None:
        """`normalized` as a contiguous run of characters in the `base` field (title or text)."""
        chars = self.analyzer.search_chars(normalized)
        if not chars:
            return None
        if len(chars) == 1:
            return Query.term_query(SCHEMA, f"{base}_chars", chars[0])
        if self._schema_version < 2:  # an index from before the pairs field
            return Query.phrase_query(SCHEMA, f"{base}_chars", list(chars))
        pairs: list[str | tuple[int, str]] = list(_pairs(chars))
        if len(pairs) == 1:
            return Query.term_query(SCHEMA, f"{base}_grams", str(pairs[0]))
        return Query.phrase_query(SCHEMA, f"{base}_grams", pairs)

    def _anywhere(self, text: str) -> Query | None:
        """`text` as a contiguous phrase in the title (boosted) or the body."""
        normalized = self.analyzer.normalize(text)
        if self.analyzer.is_dictionary_term(normalized):
            # Indexed whole wherever it occurs: one term instead of a phrase of pairs
            # (a quoted 职业技能等级认定 or -终身学习 cost 25–35 ms at 100k documents).
            return self._word(normalized)
        title, body = self._chars("title", normalized), self._chars("text", normalized)
        if title is None or body is None:
            return None
        return _should([Query.boost_query(title, TITLE_BOOST), body])

    def _token(self, token: str, searcher: tantivy.Searcher) -> Query | None:
        as_word = searcher.doc_freq("text_terms", token) or searcher.doc_freq("title_terms", token)
        if not as_word:
            # Not an indexed word anywhere (segmented differently in context): its characters.
            return self._anywhere(token)
        options = [self._word(token)]
        # A word indexed in some documents may sit inside a longer word in others (产教
        # alone, and in 产教融合) and must match there too: add its characters when more
        # documents hold them than hold the word (a phrase costs, so only then).
        if self._more_as_characters(token, as_word, searcher):
            options += [q for q in (self._anywhere(token),) if q is not None]
        return _should(options)

    def _word(self, word: str) -> Query:
        return _should(
            [
                Query.boost_query(Query.term_query(SCHEMA, "title_terms", word), TITLE_BOOST),
                Query.term_query(SCHEMA, "text_terms", word),
            ]
        )

    def _more_as_characters(self, token: str, as_word: int, searcher: tantivy.Searcher) -> bool:
        if len(token) < 2 or token.isascii() or self._schema_version < 2:
            return False
        pairs = _pairs(self.analyzer.search_chars(token))
        at_most = min(searcher.doc_freq("text_grams", p) for p in pairs) if pairs else 0
        return at_most > as_word

    def _term(self, term: Term, searcher: tantivy.Searcher) -> Query | None:
        parts = [q for t in term.tokens if (q := self._token(t, searcher)) is not None]
        options = [_must(parts)] if parts else []
        for synonym in term.synonyms:
            tokens = [t.token for t in self.analyzer.smart(synonym)]
            syn_parts = [q for t in tokens if (q := self._token(t, searcher)) is not None]
            if syn_parts:
                options.append(_must(syn_parts))
        return _should(options) if options else None

    def _text_query(self, parsed: ParsedQuery, searcher: tantivy.Searcher) -> Query | None:
        musts: list[Query] = []
        for term in parsed.terms:
            q = self._term(term, searcher)
            if q is None:
                return None  # a term that cannot match anything: no results
            musts.append(q)
        for phrase in parsed.phrases:
            q = self._anywhere(phrase)
            if q is not None:
                musts.append(q)
        for number in parsed.doc_numbers:
            options = [Query.term_query(SCHEMA, "doc_number", number)]
            if (q := self._anywhere(number)) is not None:
                options.append(q)
            musts.append(_should(options))
        excluded = [q for text in parsed.excluded if (q := self._anywhere(text)) is not None]
        if not musts:
            musts.append(Query.all_query())
        if not excluded:
            return _must(musts)
        return Query.boolean_query(
            [(Occur.Must, q) for q in musts] + [(Occur.MustNot, q) for q in excluded]
        )

    def _filters(self, query: SearchQuery) -> dict[str, tuple[Query, str]]:
        """Every filter of `query`, keyed by what it filters (a `FACET_OWN_FILTER` value),
        as a query for the ranked search and as the same query in tantivy's query syntax,
        which a filter aggregation takes (`_facets`). Hiding cluster copies is not one of
        them: see `_copies`."""
        filters: dict[str, tuple[Query, str]] = {}
        for field, values in (
            ("province", query.province),
            ("city", query.city),
            ("issuer", query.issuer),
            ("doc_type", query.doc_type),
            ("topic", query.topic),
        ):
            if values:
                filters[field] = (
                    Query.term_set_query(SCHEMA, field, list(values)),
                    " OR ".join(f"{field}:{_quoted(v)}" for v in values),
                )
        if query.date_from or query.date_to:
            low = _num(query.date_from) if query.date_from else 0
            high = _num(query.date_to) if query.date_to else NO_DATE_ASC
            filters["date"] = (
                Query.range_query(SCHEMA, "date_num", tantivy.FieldType.Integer, low, high),
                f"date_num:[{low} TO {high}]",
            )
        return {key: (Query.const_score_query(q, 0.0), text) for key, (q, text) in filters.items()}

    def _facets(
        self,
        searcher: tantivy.Searcher,
        text_query: Query,
        filters: dict[str, tuple[Query, str]],
        hidden: list[Query],
    ) -> _Counts:
        """Multi-select facets and the total, in one pass over the text query's matches.

        Each facet counts under every filter but its own (`FACET_OWN_FILTER`; the year
        facet ignores the date range): a filter aggregation per filtered facet (the other
        filters) and one for the rest (all filters), whose document count is the total.
        Matching the text is most of a pass (unions of long posting lists, phrases):
        a pass per filtered facet cost 38 % more instructions for filtered queries at
        100k documents (callgrind), and counting the total in the ranked search as well
        made it a full pass instead of a top-k."""
        slots = self._topic_slots(searcher)

        def within(keys: Iterable[str]) -> str:
            return " AND ".join(f"({filters[k][1]})" for k in keys) or "*"

        shared = [name for name in FACET_FIELDS if FACET_OWN_FILTER[name] not in filters]
        if filters:
            aggs = {"all": {"filter": within(filters), "aggs": _facet_aggs(shared, slots)}}
        else:
            # Most searches: the terms at the top level, where tantivy counts them in arrays
            # by term number; under a filter aggregation it uses hash maps, twice the cost.
            aggs = {**_facet_aggs(shared, slots), "all": {"filter": "*"}}
        for name in FACET_FIELDS:
            own = FACET_OWN_FILTER[name]
            if own in filters:
                rest = within(k for k in filters if k != own)
                aggs[f"own_{name}"] = {"filter": rest, "aggs": _facet_aggs([name], slots)}
        raw = searcher.aggregate(_must([text_query], exclude=hidden), aggs)
        facets = _read_facets(raw["all"] if filters else raw, shared, slots)
        for name in FACET_FIELDS:
            if f"own_{name}" in raw:
                facets.update(_read_facets(raw[f"own_{name}"], [name], slots))
        return _Counts(
            {name: facets.get(name, []) for name in FACET_FIELDS}, int(raw["all"]["doc_count"])
        )

    def _topic_slots(self, searcher: tantivy.Searcher) -> int:
        """How many topic slots the topic facet counts: up to the last one that some
        document fills (slots fill in order; each is a column pass over every match, and
        documents with three topics at most left two of five always empty: −0.5 ms a pass
        at 100k matches). 0 where the slots do not hold every document's topics (an index
        from before them, or a document with more than `TOPIC_SLOTS`): count `topic`."""
        if self._schema_version < 3 or searcher.doc_freq("topic_more", "1"):
            return 0
        for i in reversed(range(TOPIC_SLOTS)):
            # A term dictionary lookup: any term besides NO_TOPIC (one of a deleted
            # document, at worst, until a merge drops it) means the slot is counted.
            found = searcher.terms_with_prefix(f"topic_{i}", "", limit=2)
            if any(term != NO_TOPIC for term, _ in found):
                return i + 1
        return 1  # no document has a topic: one slot, all NO_TOPIC, counts nothing

    # --- suggestions and similar documents -----------------------------------------
    async def suggest(self, prefix: str, *, size: int = 10) -> list[Suggestion]:
        return await self._run(lambda: self._suggest(prefix, size))

    def _suggest(self, prefix: str, size: int) -> list[Suggestion]:
        normalized = self.analyzer.normalize(prefix.strip())
        if not normalized:
            return []
        found: list[Suggestion] = []
        try:
            searcher = self._open().searcher()
        except EngineUnavailable:
            searcher = None
        if searcher is not None and (q := self._chars("title", normalized)) is not None:
            for _, address in searcher.search(_must([q], exclude=[_copies()]), limit=size).hits:
                title = _payload(searcher.doc(address))["title"]
                if title and all(s.text != title for s in found):
                    found.append(Suggestion(text=title, kind="title"))
        terms: Counter[str] = Counter()
        if searcher is not None:
            for term, freq in searcher.terms_with_prefix("title_terms", normalized, limit=50):
                if len(term) > len(normalized):
                    terms[term] += freq
        for term in self.analyzer.user_terms:
            if term.startswith(normalized) and term != normalized:
                terms[term] += 1
        for term, _ in terms.most_common():
            if len(found) >= size:
                break
            found.append(Suggestion(text=term, kind="term"))
        return found[:size]

    async def similar(self, doc_id: str, *, size: int = 10) -> list[SearchHit]:
        return await self._run(lambda: self._similar(doc_id, size))

    def _similar(self, doc_id: str, size: int) -> list[SearchHit]:
        try:
            searcher = self._open().searcher()
        except EngineUnavailable:
            return []
        found = searcher.search(Query.term_query(SCHEMA, "id", doc_id), limit=1).hits
        if not found:
            return []
        source = _payload(searcher.doc(found[0][1]))
        text = self.analyzer.normalize(f"{source['title']}\n{source['text']}")
        counts = Counter(
            t.token for t in self.analyzer.smart(text) if len(t.token) > 1 and not t.token.isdigit()
        )
        total = max(1, searcher.num_docs)
        scored = []
        for token, tf in counts.items():
            df = searcher.doc_freq("text_terms", token)
            if df and df < total * 0.5 + 1:
                scored.append((tf * (1 + (total / df)) ** 0.5, token))
        top = [t for _, t in sorted(scored, reverse=True)[:25]]
        if not top:
            return []
        should = _should([Query.term_query(SCHEMA, "text_terms", t) for t in top])
        exclude = [Query.term_query(SCHEMA, "id", doc_id), _copies()]
        if source.get("cluster_id"):
            exclude.append(Query.term_query(SCHEMA, "cluster", source["cluster_id"]))
        return [
            self._hit(searcher.doc(address), score, [])
            for score, address in searcher.search(_must([should], exclude=exclude), limit=size).hits
        ]

    async def close(self) -> None:
        self._index = None


def _must(queries: list[Query], *, exclude: Sequence[Query] = ()) -> Query:
    if len(queries) == 1 and not exclude:
        return queries[0]
    return Query.boolean_query(
        [(Occur.Must, q) for q in queries] + [(Occur.MustNot, q) for q in exclude]
    )


def _copies() -> Query:
    """Cluster copies, which results hide unless asked: excluded, not `canonical = 1`
    required. Copies are few, so the exclusion skips a short posting list, where the
    requirement intersected every match with nearly the whole index: a query's ranked
    search at 100k documents took 1.8 ms with it against 0.95 ms without, same hits."""
    return Query.term_query(SCHEMA, "canonical", 0)


def _should(queries: list[Query]) -> Query:
    if len(queries) == 1:
        return queries[0]
    return Query.boolean_query([(Occur.Should, q) for q in queries])


def _merge_slots(slots: list[Any]) -> list[FacetValue]:
    """Topic counts from the slot aggregations: a document's topics are distinct, so each
    is counted once across the slots."""
    counts: Counter[str] = Counter()
    for agg in slots:
        for b in (agg or {}).get("buckets") or []:
            if b["key"] != NO_TOPIC:
                counts[str(b["key"])] += int(b["doc_count"])
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]
    return [FacetValue(value=value, count=count) for value, count in ranked]


class _Counts(NamedTuple):
    """What `_facets` counts for a query: its facets and its total."""

    facets: dict[str, list[FacetValue]]
    total: int


def _facet_aggs(names: Sequence[str], slots: int) -> dict[str, Any]:
    """Terms aggregations for the facets `names` (topic over `slots` slots, or over the
    multi-valued `topic` field when `slots` is 0; see `_topic_slots`)."""
    aggs: dict[str, Any] = {
        name: {"terms": {"field": FACET_SOURCE[name], "size": FACET_SIZE}}
        for name in names
        if not (slots and name == "topic")
    }
    if "topic" in names:
        for i in range(slots):
            aggs[f"topic#{i}"] = {"terms": {"field": f"topic_{i}", "size": SLOT_TERMS}}
    return aggs


def _read_facets(
    raw: dict[str, Any], names: Sequence[str], slots: int
) -> dict[str, list[FacetValue]]:
    facets: dict[str, list[FacetValue]] = {}
    for name in names:
        if slots and name == "topic":
            facets[name] = _merge_slots([raw.get(f"topic#{i}") for i in range(slots)])
            continue
        buckets = (raw.get(name) or {}).get("buckets") or []
        facets[name] = [
            FacetValue(value=_facet_key(b["key"]), count=int(b["doc_count"])) for b in buckets
        ]
    return facets


def _quoted(value: str) -> str:
    """`value` as one quoted term of tantivy's query syntax (raw fields keep it whole)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _num(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def _facet_key(key: Any) -> str:
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


class _StoredHit:
    """A hit's stored payload, parsed, with its title and text normalised for highlighting
    on first use (kept by `ParsedCache`, shared by the requests that return it)."""

    def __init__(self, raw: bytes, analyzer: Analyzer) -> None:
        self.payload: dict[str, Any] = dict(json.loads(raw))
        # Script conversion, most of normalising, is skipped where indexing found nothing
        # to convert (`simplified`, see `_document`).
        self._normalize = analyzer.fold if self.payload.get("simplified") else analyzer.normalize

    @cached_property
    def title_normalized(self) -> str:
        return self._normalize(self.payload.get("title") or "")

    @cached_property
    def text_normalized(self) -> str:
        return self._normalize(self.payload.get("text") or "")


def _stored_payload(doc: tantivy.Document) -> bytes:
    raw = doc.get_first("payload")
    return bytes(raw) if raw is not None else b"{}"


def _payload(doc: tantivy.Document) -> dict[str, Any]:
    return dict(json.loads(_stored_payload(doc)))
