"""The words the changelog check reads cover letters with, loaded from vocabulary.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

_DATA = tomllib.loads((Path(__file__).with_name("vocabulary.toml")).read_text(encoding="utf-8"))

RELEASE_WORDS: tuple[str, ...] = tuple(_DATA["release_words"])
ACQUIRE_WORDS: tuple[str, ...] = tuple(_DATA["acquire_words"])
COMMENT_WORDS: tuple[str, ...] = tuple(_DATA["comment_words"])
FORMAT_WORDS: tuple[str, ...] = tuple(_DATA["format_words"])
STOPWORDS: frozenset[str] = frozenset(_DATA["stopwords"])
AREAS: dict[str, str] = dict(_DATA["areas"])
SYNONYMS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _DATA["synonyms"].items()}
