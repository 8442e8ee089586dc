"""cparse layer: tree-sitter-c parses of kernel C with a length-preserving sanitiser.

`parse_c(text)` returns a cached ParsedSource; its queries (functions, enclosing function of a
line, call sites with argument texts, definitions, declarations) use the real file's lines.
"""

from reviewtool.cparse.model import Assignment, CallSite, Declaration, FunctionDef, ParseErrorRegion
from reviewtool.cparse.parse import (
    CACHE_SIZE,
    ParsedSource,
    cache_clear,
    cache_info,
    content_hash,
    parse_c,
)
from reviewtool.cparse.sanitize import MaskedRegion, Sanitized, sanitize

__all__ = [
    "Assignment",
    "CACHE_SIZE",
    "CallSite",
    "Declaration",
    "FunctionDef",
    "MaskedRegion",
    "ParseErrorRegion",
    "ParsedSource",
    "Sanitized",
    "cache_clear",
    "cache_info",
    "content_hash",
    "parse_c",
    "sanitize",
]
