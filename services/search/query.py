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
# 发文字号 as users type them, spaces allowed: 兰政发[2021]13号, 国办发〔2019〕4号,
# 教职成厅函 (2023) 15号; `normalize_doc_number` decides and gives the 〔〕 form.
DOC_NUMBER = re.compile(
    r"(?<![\u4e00-\u9fff\w])-?[\u4e00-\u9fff]{1,20}\s*[\[〔(【{]\s*(?:19|20)\d{2}\s*[\]〕)】}]"
    r"\s*\d{1,5}\s*号?"
)
_LEAD_IN = re.compile(r"关于|印发|转发|根据|按照|依据|参照")


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
    text = DOC_NUMBER.sub(lambda m: _take_doc_number(m, parsed), text)
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
        tokens = [t.token for t in analyzer.smart(word)]
        if not tokens:
            continue
        synonyms = analyzer.synonyms(word)
        if len(tokens) == 1:
            synonyms = sorted(set(synonyms) | set(analyzer.synonyms(tokens[0])))
        parsed.terms.append(Term(text=word, tokens=tokens, synonyms=synonyms))
    return parsed


def _take_doc_number(match: re.Match[str], parsed: ParsedQuery) -> str:
    """Record a 发文字号 (or its exclusion) and cut it out of the text; keep other text."""
    raw = match.group()
    negated = raw.startswith("-")
    body = raw.lstrip("-")
    # Users paste titles: 关于印发兰政发[2021]13号的通知; the number starts after the lead-in.
    lead = ""
    if cut := list(_LEAD_IN.finditer(body)):
        lead, body = body[: cut[-1].end()], body[cut[-1].end() :]
    number = normalize_doc_number(body)
    if number is None:
        return raw
    (parsed.excluded if negated else parsed.doc_numbers).append(number)
    return f" {lead} "
