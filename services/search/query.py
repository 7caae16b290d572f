"""What a user's query means, independent of the engine that runs it.

`产教融合 "双师型教师" -乡村 兰政发[2021]13号` → terms, phrases, exclusions and document
numbers, each normalised (half-width, simplified) and tokenised the `smart` way, with
synonyms attached. Both engines build their native query from this, so they agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.search.analysis import Analyzer, get_analyzer
from services.search.doc_numbers import normalize_doc_number

# "phrase", -"excluded phrase", -excluded, plain
_PART = re.compile(r'(-?)"([^"]+)"|(\S+)')
# 发文字号 as users type them: 兰政发[2021]13号, 国办发〔2019〕4号, 教职成厅函(2023)15号
DOC_NUMBER = re.compile(r"^[\u4e00-\u9fff]{1,12}[\[〔(【(]\s*\d{4}\s*[\]〕)】)]\s*\d{1,5}\s*号$")


@dataclass(slots=True)
class Term:
    text: str  # normalised
    tokens: list[str]  # smart tokens
    synonyms: list[str] = field(default_factory=list)  # of the whole term


@dataclass(slots=True)
class ParsedQuery:
    normalized: str
    terms: list[Term] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)  # normalised phrase text
    excluded: list[str] = field(default_factory=list)  # normalised terms or phrases
    doc_numbers: list[str] = field(default_factory=list)  # normalised to 〔〕

    @property
    def tokens(self) -> list[str]:
        return [t for term in self.terms for t in term.tokens] + self.phrases

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.phrases or self.doc_numbers or self.excluded)

    def highlight_terms(self) -> list[str]:
        """Everything whose occurrence in a hit should be marked, longest first."""
        found = set(self.phrases)
        for term in self.terms:
            found.update(term.tokens)
            found.update(term.synonyms)
            found.add(term.text)
        found.update(self.doc_numbers)
        return sorted((t for t in found if t), key=len, reverse=True)


def parse_query(raw: str, analyzer: Analyzer | None = None) -> ParsedQuery:
    analyzer = analyzer or get_analyzer()
    text = analyzer.normalize(raw.strip())
    parsed = ParsedQuery(normalized=" ".join(text.split()))
    for match in _PART.finditer(text):
        negated, phrase, word = match.group(1), match.group(2), match.group(3)
        if phrase is not None:
            phrase = phrase.strip()
            if phrase:
                (parsed.excluded if negated else parsed.phrases).append(phrase)
            continue
        if word.startswith("-") and len(word) > 1:
            parsed.excluded.append(word[1:])
            continue
        word = word.strip("-")
        if not word:
            continue
        if DOC_NUMBER.match(word):
            parsed.doc_numbers.append(normalize_doc_number(word) or word)
            continue
        tokens = [t.token for t in analyzer.smart(word)]
        if not tokens:
            continue
        synonyms = analyzer.synonyms(word)
        if len(tokens) == 1:
            synonyms = sorted(set(synonyms) | set(analyzer.synonyms(tokens[0])))
        parsed.terms.append(Term(text=word, tokens=tokens, synonyms=synonyms))
    return parsed
