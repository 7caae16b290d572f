"""Each upload format parses to the text a reader sees, and hostile files are refused."""

from __future__ import annotations

import pytest

from shared.formats import (
    FormatError,
    NeedsOCR,
    ParseLimits,
    check_html_depth,
    check_text,
    decode_text,
    parse_document,
    sniff_format,
    validate_upload,
)
from tests.file_fixtures import (
    BODY,
    TITLE,
    make_docx,
    make_html,
    make_pdf,
    make_scanned_pdf,
    make_zip_bomb,
)


def test_docx_keeps_paragraphs_and_table_rows_in_order() -> None:
    data = make_docx()
    assert sniff_format(data, filename="意见.docx", content_type=None) == "docx"
    text = parse_document(data, "docx").text
    lines = text.splitlines()
    assert lines[0] == TITLE
    assert "1 | 建设实训基地 | 市教育局" in text.replace("\t", " | ")
    assert text.index(BODY[2]) < text.index("建设实训基地") < text.index("2021年3月22日")


def test_pdf_pages_in_order() -> None:
    parsed = parse_document(make_pdf(), "pdf")
    assert parsed.pages == 2
    assert parsed.text.index(TITLE) < parsed.text.index(BODY[2])


def test_pdf_without_text_layer_says_it_needs_ocr() -> None:
    data = make_scanned_pdf()
    validate_upload(data, "pdf")  # accepted at the door ...
    with pytest.raises(NeedsOCR, match="OCR"):  # ... and failed with a reason when parsed
        parse_document(data, "pdf")


def test_html_charset_from_meta() -> None:
    parsed = parse_document(make_html("gbk"), "html")
    assert parsed.encoding is not None and parsed.encoding.lower() in {"gbk", "gb18030", "gb2312"}
    assert parsed.html is not None and TITLE in parsed.html


def test_zip_bomb_is_refused_with_a_clear_error() -> None:
    with pytest.raises(FormatError, match=r"ZIP bomb|expands"):
        validate_upload(make_zip_bomb(), "docx")


def test_too_many_pdf_pages_is_refused() -> None:
    data = make_pdf(["第一页", "第二页", "第三页"])
    with pytest.raises(FormatError, match="page"):
        validate_upload(data, "pdf", limits=ParseLimits(max_pdf_pages=2))


def test_deeply_nested_html_is_refused() -> None:
    html = ("<div>" * 5000 + "正文" + "</div>" * 5000).encode()
    with pytest.raises(FormatError, match=r"nest|depth"):
        parse_document(html, "html")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030", "gbk", "big5"])
def test_txt_in_each_common_chinese_encoding(encoding: str) -> None:
    text = "兰州市人民政府关于印发《职业教育改革实施方案》的通知\n各县区人民政府:\n现印发给你们。"
    if encoding == "big5":
        text = (
            "蘭州市人民政府關於印發《職業教育改革實施方案》的通知\n各縣區人民政府:\n現印發給你們。"
        )
    decoded = decode_text(text.encode(encoding))
    assert decoded.text == text


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("关于推进产教融合的通知\x00正文", "NUL"),  # PostgreSQL text cannot hold it
        ("关于推进产教融合的通知\ud800正文", "surrogate"),  # UTF-8 cannot encode it
        ("\x01\x02\x03\x04" * 20 + "正文", "control"),
        (" \n\t\u3000 ", "empty"),
    ],
)
def test_text_that_cannot_be_stored_is_refused(text: str, error: str) -> None:
    with pytest.raises(FormatError, match=error):
        check_text(text)


def test_deep_html_is_refused_wherever_it_comes_from() -> None:
    html = "<div>" * 600 + "正文" + "</div>" * 600
    with pytest.raises(FormatError, match="levels deep"):
        check_html_depth(html)
    with pytest.raises(FormatError, match="levels deep"):
        validate_upload(html.encode(), "html")
    check_html_depth("<div>" * 100 + "正文" + "</div>" * 100)
