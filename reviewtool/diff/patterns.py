"""Every regular expression and fixed name the diff layer reads diffs with, in one place."""

from __future__ import annotations

import re

from reviewtool.textlines import HUNK_HEADER_RE

# `@@ -old[,n] +new[,n] @@ section`: the one hunk header pattern of the package.
HUNK_RE = HUNK_HEADER_RE
QUOTED_PATH_RE = re.compile(r'^"(.*)"$')
DEV_NULL = "/dev/null"
# C sources and headers: the files whose hunks have functions.
C_SUFFIXES = (".c", ".h")
# git's C-style escapes in quoted file names.
PATH_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
# No real source file has this many lines (the largest generated kernel headers have a few
# hundred thousand); a hunk header past it is hostile or damaged and would make a reader
# allocate gigabytes to pad an image out to its line number.
MAX_LINE_NUMBER = 10_000_000
