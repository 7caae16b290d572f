"""IK-style analysis in Python for the embedded engine (and the query side of both engines).

Elasticsearch indexes with IK's `ik_max_word` and queries with `ik_smart`; the embedded
engine does the same with rjieba (Rust jieba, ≈0.25 ms per 5 KB document against ≈7 ms for
pure-Python jieba, same dictionary): `max_word` = every dictionary word and its sub-words
(jieba "search" mode plus the policy terms inside longer words), `smart` = the precise cut
without stopwords. Numbers are split from their units (2020年 → 2020, 年).
Both load the files in `data/` that the Elasticsearch image ships to IK: the project's
dictionary of policy terms, the synonyms (Solr format) and the stopwords.

`normalize` maps full-width forms to half-width (NFKC) and traditional script to
simplified (OpenCC t2s) *without changing the length*, so token offsets computed on the
normalised text are offsets into the original text too (highlighting depends on it).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import opencc
import rjieba

ANALYSIS_DIR = Path(__file__).parent / "data"
DICTIONARY = ANALYSIS_DIR / "policy_terms.dic"
SYNONYMS = ANALYSIS_DIR / "synonyms.txt"
STOPWORDS = ANALYSIS_DIR / "stopwords.dic"

_START = itemgetter(1)
_SEARCH_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[a-z0-9]+", re.UNICODE)


def _one_to_one_nfkc() -> dict[int, str]:
    """NFKC for the characters it maps to exactly one other character (full-width forms,
    ideographic space, compatibility ideographs). A translate table keeps lengths equal
    and runs in C: normalising character by character cost ~1 ms per 5 KB."""
    table: dict[int, str] = {}
    for start, end in ((0x2000, 0x2BFF), (0x3000, 0x33FF), (0xF900, 0xFAFF), (0xFE30, 0xFFEF)):
        for cp in range(start, end + 1):
            folded = unicodedata.normalize("NFKC", chr(cp))
            if len(folded) == 1 and folded != chr(cp):
                table[cp] = folded
    return table


_ONE_TO_ONE_NFKC = _one_to_one_nfkc()
# str.translate looks every character up in a dict (1 ms per 12k characters); a regex
# scan finds the few that need folding in C and only those go through Python.
_FOLDABLE = re.compile("[" + "".join(re.escape(chr(cp)) for cp in _ONE_TO_ONE_NFKC) + "]+")


def _fold(match: re.Match[str]) -> str:
    return "".join(_ONE_TO_ONE_NFKC[ord(ch)] for ch in match.group())


# Numbers the precise cut keeps whole ("2.5", "30%", "covid-19"): index their digit and
# Latin runs, so "2.5亿元" matches a query for 2.5 and "30%" one for 30.
_NUMBER_PART = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")


def _wordlike(word: str) -> bool:
    """Han runs and Latin/digit words are worth indexing; punctuation and spaces are not.

    `str.isalnum` runs in C: a regex here cost 0.5 ms per 5 KB document.
    """
    return word.isalnum() or (len(word) > 1 and "+" in word)


def _words(found: Iterable[tuple[str, int, int]]) -> Iterator[tuple[str, int, int]]:
    """The word-like tokens of a jieba cut; mixed ones ("2.5", "30%") give their parts."""
    for word, start, end in found:
        if _wordlike(word):
            yield word, start, end
        elif len(word) > 1 and not word.isspace():
            for m in _NUMBER_PART.finditer(word):
                yield m.group(), start + m.start(), start + m.end()


class Token(NamedTuple):
    # A NamedTuple, not a dataclass: a 5 KB document has ~3000 tokens and a frozen
    # dataclass's __init__ costs 2 µs each (it was most of the analysis time).
    token: str
    start: int
    end: int


def _read_lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def _read_synonyms(path: Path) -> dict[str, tuple[str, ...]]:
    """Solr format: `a, b, c` makes an equivalence group (`=>` rules are not used here)."""
    groups: dict[str, tuple[str, ...]] = {}
    for line in _read_lines(path):
        terms = tuple(t.strip() for t in line.split(",") if t.strip())
        for term in terms:
            groups[term] = tuple(dict.fromkeys(groups.get(term, ()) + terms))
    return groups


class Analyzer:
    def __init__(self, data_dir: Path = ANALYSIS_DIR) -> None:
        self.user_terms = _read_lines(data_dir / "policy_terms.dic")
        self.synonym_groups = _read_synonyms(data_dir / "synonyms.txt")
        self.stopwords = frozenset(_read_lines(data_dir / "stopwords.dic"))
        self._jieba = rjieba.Jieba()
        for term in self.user_terms + list(self.synonym_groups):
            # A high frequency makes the precise cut keep the whole term (IK's main dict).
            self._jieba.add_word(term, 100_000, None)
        self._term_set = frozenset(self.user_terms) | frozenset(self.synonym_groups)
        self._longest = max(map(len, self._term_set), default=0)
        self._t2s = opencc.OpenCC("t2s")
        digest = hashlib.sha256()
        for name in ("policy_terms.dic", "synonyms.txt", "stopwords.dic"):
            digest.update((data_dir / name).read_bytes())
        self.dictionary_version = digest.hexdigest()[:12]

    def fold(self, text: str) -> str:
        """Half-width and lower-case only: `normalize` for text already in simplified script."""
        return _FOLDABLE.sub(_fold, text).lower()

    def normalize(self, text: str) -> str:
        """Half-width, simplified, lower-case; same length as `text` (see module doc)."""
        folded_text = self.fold(text)
        simplified = self._t2s.convert(folded_text)
        if len(simplified) != len(folded_text):
            # A phrase mapping changed the length; convert character by character instead.
            simplified = "".join(self._t2s.convert(ch) or ch for ch in folded_text)
        return str(simplified)

    def max_word(self, text: str) -> list[Token]:
        """Fine-grained tokens for indexing: words, their sub-words, overlapping; by start."""
        # Search mode is the precise cut plus the dictionary sub-words of each long word (the
        # precise cut's tokens are a subset). dict.fromkeys drops repeats and keeps jieba's
        # near-sorted order, so the stable sort by start is cheap; Token._make skips the
        # Python-level __new__ (building the tokens was half the cost).
        found = dict.fromkeys(self._jieba.tokenize(text, "search", True))
        inner = [
            (sub, start + s, start + e)
            for word, start, _ in found
            if len(word) > 3
            for sub, s, e in self._inner_terms(word)
        ]
        found.update(dict.fromkeys(inner))
        return list(map(Token._make, sorted(_words(found), key=_START)))

    def _inner_terms(self, word: str) -> list[tuple[str, int, int]]:
        """Policy terms inside a longer word, at any offset: jieba's search mode only adds
        2- and 3-character sub-words, IK adds every dictionary word (市域产教联合体 →
        产教联合体). Only the project dictionary is checked: it is what users search for."""
        n = len(word)
        return [
            (word[i:j], i, j)
            for i in range(n)
            for j in range(i + 4, min(n, i + self._longest) + 1)
            if (i, j) != (0, n) and word[i:j] in self._term_set
        ]

    def index_terms(self, text: str) -> list[str]:
        """`max_word` as bare strings, unordered: what the engine indexes (term frequencies
        only, no positions, so order does not matter and sorting would cost 2 ms/doc)."""
        words = set(self._jieba.cut_for_search(text, True))
        words.update(sub for w in list(words) if len(w) > 3 for sub, _, _ in self._inner_terms(w))
        kept = [w for w in words if _wordlike(w)]
        for word in words:
            if not _wordlike(word) and len(word) > 1 and not word.isspace():
                kept.extend(m.group() for m in _NUMBER_PART.finditer(word))
        return kept

    def smart(self, text: str) -> list[Token]:
        """Coarse tokens for queries: the precise cut, stopwords and punctuation dropped."""
        return [
            Token(word, start, end)
            for word, start, end in _words(self._jieba.tokenize(text, "default", True))
            if word not in self.stopwords
        ]

    def is_dictionary_term(self, word: str) -> bool:
        """A project dictionary term: `max_word` emits it wherever its characters occur."""
        return word in self._term_set

    def synonyms(self, term: str) -> list[str]:
        """Other terms of `term`'s synonym group (empty if it has none)."""
        return [t for t in self.synonym_groups.get(term, ()) if t != term]

    def search_chars(self, text: str) -> list[str]:
        """Han characters one by one and Latin/digit runs: the phrase and highlight field.

        Phrases are matched on this field because `max_word` tokens overlap (a phrase
        query over them breaks, the IK pitfall) and `smart` glues numbers to quantifiers.
        """
        return _SEARCH_CHAR.findall(text)


@cache
def get_analyzer() -> Analyzer:
    return Analyzer()
