"""Full text extraction for the pipeline, with limits against hostile files.

- docx: paragraphs and tables in document order (python-docx); a table row becomes one
  `cell | cell | cell` line, the form the cleaning stage keeps.
- pdf: pages in order (pypdf); no text on any page means it needs OCR.
- html: decoded here; main-text extraction is the cleaning stage's job.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from shared.formats.errors import FormatError, NeedsOCR, ParserLimitExceeded
from shared.formats.sniff import InputFormat
from shared.formats.text import check_text, decode_text

META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]+)""", re.I)


@dataclass(frozen=True, slots=True)
class ParseLimits:
    max_pdf_pages: int = 500
    max_docx_uncompressed: int = 100 * 2**20
    max_compression_ratio: int = 100
    max_zip_entries: int = 2000
    max_html_depth: int = 512


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    text: str
    html: str | None
    encoding: str | None
    pages: int | None = None
    meta: dict[str, str] = field(default_factory=dict)


def validate_upload(
    data: bytes, fmt: InputFormat, *, limits: ParseLimits = ParseLimits()
) -> str | None:
    """Cheap checks at request time; returns the detected encoding for text formats."""
    if fmt == "txt":
        return decode_text(data).encoding
    if fmt == "html":
        decoded = decode_html(data)
        check_html_depth(decoded.html or "", limits)
        return decoded.encoding
    if fmt == "docx":
        _check_zip(data, limits)
        return None
    _open_pdf(data, limits)
    return None


def parse_document(
    data: bytes,
    fmt: InputFormat,
    *,
    declared_charset: str | None = None,
    limits: ParseLimits = ParseLimits(),
) -> ParsedDocument:
    if fmt == "txt":
        decoded = decode_text(data, declared=declared_charset)
        return ParsedDocument(text=decoded.text, html=None, encoding=decoded.encoding)
    if fmt == "html":
        parsed = decode_html(data, declared=declared_charset)
        check_html_depth(parsed.html or "", limits)
        return parsed
    if fmt == "docx":
        return ParsedDocument(text=_docx_text(data, limits), html=None, encoding=None)
    return _pdf_text(data, limits)


def decode_html(data: bytes, *, declared: str | None = None) -> ParsedDocument:
    match = META_CHARSET.search(data[:4096])
    charset = declared or (match.group(1).decode("ascii", "ignore") if match else None)
    decoded = decode_text(data, declared=charset)
    return ParsedDocument(text="", html=decoded.text, encoding=decoded.encoding)


def check_html_depth(html: str, limits: ParseLimits = ParseLimits()) -> None:
    """Refuse HTML nested deeper than any real page (ParserLimitExceeded, 422)."""
    # Count open tags minus close tags along the document; a page nested deeper than any
    # real one is an attack on the parser (and on trafilatura's recursion).
    depth = peak = 0
    for m in re.finditer(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>", html):
        if m.group(1):
            depth = max(0, depth - 1)
        elif not m.group(3) and m.group(2).lower() not in VOID_TAGS:
            depth += 1
            peak = max(peak, depth)
    if peak > limits.max_html_depth:
        raise ParserLimitExceeded(
            f"The HTML nests {peak} levels deep (limit {limits.max_html_depth})."
        )


VOID_TAGS = {
    "br",
    "hr",
    "img",
    "meta",
    "link",
    "input",
    "area",
    "base",
    "col",
    "embed",
    "source",
    "wbr",
    "p",
    "li",
    "td",
    "tr",
    "th",
    "option",
}


def _check_zip(data: bytes, limits: ParseLimits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise FormatError("The .docx file is damaged (not a readable ZIP).") from exc
    if len(infos) > limits.max_zip_entries:
        raise ParserLimitExceeded(
            f"The .docx holds {len(infos)} parts (limit {limits.max_zip_entries})."
        )
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > limits.max_docx_uncompressed or total / packed > limits.max_compression_ratio:
        raise ParserLimitExceeded(
            f"The .docx expands to {total} bytes from {packed} (a ZIP bomb?); "
            f"limits: {limits.max_docx_uncompressed} bytes, ratio {limits.max_compression_ratio}."
        )


def _docx_text(data: bytes, limits: ParseLimits) -> str:
    from docx import Document as open_docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _check_zip(data, limits)
    try:
        document = open_docx(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for damaged files
        raise FormatError(f"The .docx file cannot be read: {exc}") from exc
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells = [c.text.strip().replace("\n", " ") for c in row.cells]
                lines.append(" | ".join(_dedupe_merged(cells)))
    text = "\n".join(lines)
    check_text(text)
    return text


def _dedupe_merged(cells: list[str]) -> list[str]:
    # python-docx repeats a horizontally merged cell's text in each grid column.
    out: list[str] = []
    for cell in cells:
        if not out or cell != out[-1] or not cell:
            out.append(cell)
    return out


def _open_pdf(data: bytes, limits: ParseLimits):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"The PDF cannot be read: {exc}") from exc
    if reader.is_encrypted:
        raise FormatError("The PDF is encrypted; upload a copy without a password.")
    if pages > limits.max_pdf_pages:
        raise ParserLimitExceeded(f"The PDF has {pages} pages (limit {limits.max_pdf_pages}).")
    return reader


def _pdf_text(data: bytes, limits: ParseLimits) -> ParsedDocument:
    reader = _open_pdf(data, limits)
    # Broken font maps make pypdf emit NULs; they are artefacts, not text (and PostgreSQL
    # text cannot store them).
    pages = [(page.extract_text() or "").replace("\x00", "").strip() for page in reader.pages]
    if not any(pages):
        raise NeedsOCR(
            f"None of the {len(pages)} PDF page(s) has a text layer: it is a scan and needs OCR,"
            " which this service does not do. Submit the text or a PDF with a text layer."
        )
    meta = {
        k.lstrip("/").lower().replace("\x00", ""): str(v).replace("\x00", "")
        for k, v in (reader.metadata or {}).items()
        if v
    }
    return ParsedDocument(
        text="\n\n".join(p for p in pages if p),
        html=None,
        encoding=None,
        pages=len(pages),
        meta=meta,
    )
