"""textlines: git's line cutting and the visible stand-ins of control characters."""

from __future__ import annotations

import sys

from reviewtool.textlines import BIDI_CONTROLS, stand_in, visible, visible_text

# What a reader cannot see or what moves the cursor: C0 but tab, DEL, C1, the Unicode line
# and paragraph separators, the bidi controls.
HIDDEN = {
    *(chr(c) for c in range(0x20) if c != 0x09),
    *(chr(c) for c in range(0x7F, 0xA0)),
    "\u2028",
    "\u2029",
    *BIDI_CONTROLS,
}


def test_every_hidden_character_and_only_those_get_a_stand_in() -> None:
    # Every code point up to U+3000 (all the hidden ones are below it), then a sample above.
    codes = [*range(0x3000), *range(0x3000, sys.maxunicode + 1, 997)]
    for code in codes:
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        expected = stand_in(char) if char in HIDDEN else char
        assert visible(f"a{char}b") == f"a{expected}b", hex(code)
        kept = char if char == "\n" else expected
        assert visible_text(f"a{char}b") == f"a{kept}b", hex(code)


def test_stand_ins_are_visible_symbols() -> None:
    assert visible("\x1b[2J\f") == "\u241b[2J\u240c"
    assert visible("safe\u202egnp.exe") == "safe<U+202E>gnp.exe"
    assert visible_text("a\tb\nc\x7f") == "a\tb\nc\u2421"
