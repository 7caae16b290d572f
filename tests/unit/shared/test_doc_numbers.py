"""发文字号 normalisation used by the search side for the keyword field and queries."""

import pytest

from services.search.doc_numbers import normalize_doc_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("兰政发〔2021〕13号", "兰政发〔2021〕13号"),
        ("兰政发[2021]13号", "兰政发〔2021〕13号"),
        ("兰政发(2021)13号", "兰政发〔2021〕13号"),
        ("兰政发（２０２１）１３号", "兰政发〔2021〕13号"),
        ("国办发 [2019] 4号", "国办发〔2019〕4号"),
        ("教职成厅函【2023】15号", "教职成厅函〔2023〕15号"),
        ("产教融合", None),
        ("2021年3月", None),
    ],
)
def test_bracket_and_width_variants_normalise(raw: str, expected: str | None) -> None:
    assert normalize_doc_number(raw) == expected
