"""The cache of parsed hit payloads: parsed once while recent, bounded by a byte budget."""

from __future__ import annotations

from collections.abc import Callable

from services.search.engines.stored_hits import ParsedCache


def _recording(parsed: list[bytes]) -> Callable[[bytes], str]:
    def parse(raw: bytes) -> str:
        parsed.append(raw)
        return raw.decode()

    return parse


def test_the_same_bytes_are_parsed_once_and_others_each_time() -> None:
    parsed: list[bytes] = []
    cache = ParsedCache(_recording(parsed), budget=1_000)
    assert [cache.get(b"a"), cache.get(b"a"), cache.get(b"b")] == ["a", "a", "b"]
    assert parsed == [b"a", b"b"]


def test_the_least_recently_used_go_first_when_over_budget() -> None:
    parsed: list[bytes] = []
    cache = ParsedCache(_recording(parsed), budget=8)
    for raw in (b"1111", b"2222", b"1111", b"3333"):  # 1111 used again: 2222 goes
        cache.get(raw)
    parsed.clear()
    cache.get(b"1111")
    cache.get(b"3333")
    cache.get(b"2222")
    assert parsed == [b"2222"]
    assert len(cache) == 2


def test_a_payload_larger_than_the_budget_is_parsed_but_not_kept() -> None:
    cache = ParsedCache(lambda raw: raw.decode(), budget=4)
    assert cache.get(b"12345") == "12345"
    assert len(cache) == 0
