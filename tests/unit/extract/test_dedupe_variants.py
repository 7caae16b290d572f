"""The default thresholds against the hand-labelled variants in tests/data/dedupe_eval/.

Each pair runs through cleaning, identity and `deduplicate` on a migrated SQLite database,
in both arrival orders (bench/dedupe_variants.py). These are the issue's targets: a wrong
merge hides a legal document, so merge precision must be perfect.
"""

from __future__ import annotations

import pytest

from bench.dedupe_variants import Result, evaluate, score
from shared.settings import Settings


@pytest.fixture(scope="module")
def results() -> list[Result]:
    defaults = Settings()
    return evaluate(defaults.near_duplicate_threshold, containment=defaults.containment_threshold)


def test_default_thresholds_meet_the_targets(results: list[Result]) -> None:
    s = score(results)
    assert s["merge_precision"] == 1.0, s  # no different documents shown as one
    assert s["merge_recall"] >= 0.95, s  # republished copies collapse into one result
    assert s["relation_recall"] >= 0.95, s  # exact, near and contained_in found
    assert s["templates_related"] == 1.0, s  # a city's adaptation is related, not merged
    assert s["wrong_relations"] == 0, s  # unrelated same-topic documents stay apart


def test_template_adaptations_stay_searchable_on_their_own(results: list[Result]) -> None:
    templates = [r for r in results if r.pair.expect == "related"]
    assert templates
    assert all(r.relation == "near_duplicate" and not r.merged for r in templates)
