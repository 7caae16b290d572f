"""Province / city / county from names, with the shipped gazetteer (data/divisions.tsv).

Only full official names are matched (`齐齐哈尔市`, `兴安盟`, `江津区`): short forms like
`朝阳` are too ambiguous to trust. A county-level name shared by several places (鼓楼区)
is resolved by a province or city named alongside it, or left unknown.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "divisions.tsv"
MAX_NAME = 12


@dataclass(frozen=True, slots=True)
class Division:
    name: str
    level: str  # province | city | county
    province: str
    city: str | None


@dataclass(frozen=True, slots=True)
class Region:
    province: str | None = None
    city: str | None = None
    county: str | None = None

    @property
    def known(self) -> bool:
        return self.province is not None


@cache
def gazetteer() -> dict[str, list[Division]]:
    by_name: dict[str, list[Division]] = {}
    with DATA.open(encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        for row in rows:
            level = row["level"]
            city = row["city"] or (row["name"] if level == "city" else None)
            d = Division(row["name"], level, row["province"], city or None)
            if d not in by_name.setdefault(d.name, []):
                by_name[d.name].append(d)
    return by_name


def _to_region(d: Division) -> Region:
    if d.level == "province":
        # 直辖市 (上海市…) are provinces and cities at once.
        city = d.name if d.name in {"北京市", "上海市", "天津市", "重庆市"} else None
        return Region(d.province, city, None)
    if d.level == "city":
        return Region(d.province, d.name, None)
    return Region(d.province, d.city, d.name)


def names_in(text: str) -> list[tuple[int, Division]]:
    """Division names at each position, longest name first (left to right)."""
    g = gazetteer()
    found: list[tuple[int, Division]] = []
    i = 0
    while i < len(text):
        for length in range(min(MAX_NAME, len(text) - i), 1, -1):
            divisions = g.get(text[i : i + length])
            if divisions:
                found.extend((i, d) for d in divisions)
                i += length - 1
                break
        i += 1
    return found


def resolve(text: str) -> Region:
    """The most specific unambiguous region named in `text` (an issuer or a title)."""
    found = names_in(text)
    if not found:
        return Region()
    provinces = {d.province for _, d in found if d.level == "province"}
    cities = {d.name for _, d in found if d.level == "city"}
    best: Region | None = None
    for level in ("county", "city", "province"):
        options = [d for _, d in found if d.level == level]
        if not options:
            continue
        if len(options) > 1:
            narrowed = [d for d in options if d.province in provinces or d.city in cities]
            options = narrowed or options
        distinct = {(d.province, d.city, d.name) for d in options}
        if len(distinct) == 1:
            best = _to_region(options[0])
            break
        shared_provinces = {d.province for d in options}
        if len(shared_provinces) == 1 and level != "province":
            best = Region(shared_provinces.pop(), None, None)
            # keep looking for a more certain, less specific level
    return best or Region()


def starts_with_region(text: str) -> Region:
    """A region named at the very start of `text` (titles like `兴安盟市域产教联合体…`)."""
    g = gazetteer()
    for length in range(min(MAX_NAME, len(text)), 1, -1):
        divisions = g.get(text[:length])
        if divisions:
            if len(divisions) == 1:
                return _to_region(divisions[0])
            return Region()
    return Region()
