"""Decoding and parsing of submitted files; used by ingest (validation) and extract (text)."""

from shared.formats.errors import (
    BinaryContent,
    EmptyText,
    FormatError,
    NeedsOCR,
    ParserLimitExceeded,
    TooLarge,
    UndecodableText,
    UnsupportedFormat,
)
from shared.formats.parse import (
    ParsedDocument,
    ParseLimits,
    check_html_depth,
    parse_document,
    validate_upload,
)
from shared.formats.sniff import InputFormat, sniff_format
from shared.formats.text import DecodedText, check_text, decode_text

__all__ = [
    "BinaryContent",
    "DecodedText",
    "EmptyText",
    "FormatError",
    "InputFormat",
    "NeedsOCR",
    "ParseLimits",
    "ParsedDocument",
    "ParserLimitExceeded",
    "TooLarge",
    "UndecodableText",
    "UnsupportedFormat",
    "check_html_depth",
    "check_text",
    "decode_text",
    "parse_document",
    "sniff_format",
    "validate_upload",
]
