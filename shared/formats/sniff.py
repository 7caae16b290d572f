"""Tell txt, html, docx and pdf apart: magic bytes first, then name and declared type."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Literal

from shared.formats.errors import UnsupportedFormat

InputFormat = Literal["txt", "html", "docx", "pdf"]

BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"MZ": "a Windows executable",
    b"\x7fELF": "an executable",
    b"\xd0\xcf\x11\xe0": "a legacy Office file (.doc/.xls): save it as .docx",
    b"Rar!": "a RAR archive",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"%!PS": "a PostScript file",
}
HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<meta|<div|<p[\s>]|<!--)", re.I)
BY_SUFFIX: dict[str, InputFormat] = {
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".docx": "docx",
    ".pdf": "pdf",
}
BY_TYPE: dict[str, InputFormat] = {
    "text/plain": "txt",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
SUPPORTED = "Supported: .txt (UTF-8/16, GB18030/GBK, Big5), .html, .docx, .pdf."


def sniff_format(data: bytes, *, filename: str | None, content_type: str | None) -> InputFormat:
    head = data[:1024]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        if _is_docx(data):
            return "docx"
        raise UnsupportedFormat(
            f"The file is a ZIP archive but not a Word .docx document. {SUPPORTED}"
        )
    for magic, what in BINARY_MAGIC.items():
        if head.startswith(magic):
            raise UnsupportedFormat(f"The file is {what}. {SUPPORTED}")
    suffix = ("." + filename.rsplit(".", 1)[-1].lower()) if filename and "." in filename else ""
    declared = (content_type or "").split(";")[0].strip().lower()
    if suffix in (".doc", ".xls", ".ppt", ".xlsx", ".pptx", ".rtf", ".odt", ".wps"):
        raise UnsupportedFormat(f"`{suffix}` files are not supported. {SUPPORTED}")
    if suffix in (".pdf", ".docx") or declared in ("application/pdf", BY_TYPE_DOCX):
        raise UnsupportedFormat(
            f"The file is named or typed as {suffix or declared} but is not one. {SUPPORTED}"
        )
    if (
        HTML_START.match(head)
        or suffix in (".html", ".htm", ".xhtml")
        or declared in ("text/html", "application/xhtml+xml")
    ):
        return "html"
    if (
        suffix in ("", ".txt", ".text", ".csv", ".md")
        or declared.startswith("text/")
        or declared
        in (
            "",
            "application/octet-stream",
        )
    ):
        return "txt"
    raise UnsupportedFormat(f"`{declared or suffix}` is not a supported type. {SUPPORTED}")


BY_TYPE_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
