"""Input format errors, each carrying the HTTP status a client should see.

FormatError               base (422)
├── UnsupportedFormat     415  not txt/html/docx/pdf
├── UndecodableText       422  no Chinese-capable encoding decodes it
├── EmptyText             422  empty or whitespace only
├── BinaryContent         422  mostly control characters / NULs
├── TooLarge              413
├── ParserLimitExceeded   422  zip bomb, too many pages, too deep
└── NeedsOCR              422  a PDF without a text layer (raised by the pipeline)
"""

from __future__ import annotations


class FormatError(Exception):
    status = 422
    title = "Invalid document"
    type_slug = "invalid-document"


class UnsupportedFormat(FormatError):
    status, title, type_slug = 415, "Unsupported media type", "unsupported-media-type"


class UndecodableText(FormatError):
    title, type_slug = "Undecodable text", "undecodable-text"


class EmptyText(FormatError):
    title, type_slug = "Empty document", "empty-document"


class BinaryContent(FormatError):
    title, type_slug = "Binary content", "binary-content"


class TooLarge(FormatError):
    status, title, type_slug = 413, "Payload too large", "payload-too-large"


class ParserLimitExceeded(FormatError):
    title, type_slug = "Document exceeds parser limits", "parser-limit-exceeded"


class NeedsOCR(FormatError):
    title, type_slug = "PDF needs OCR", "needs-ocr"
