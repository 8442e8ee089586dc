"""The one sanitiser of text from mail on its way into HTML: shown, never obeyed.

HTML escaping stops markup, not U+202E: a file named `safe\u202egnp.exe` still reads as
`safeexe.png` in a browser, and an ESC or a U+2028 in a subject is invisible there. Every value
the report prints passes `visible_html` (jinja's `finalize` in `render.html`), and every piece
of HTML a renderer builds by hand is made of `text_html` (text from mail, escaped) and
constant markup; `tests/test_html_sanitiser.py` fails on any other `Markup(...)` in the
package. Controls get the stand-ins the text doors use (`textlines.stand_in`: U+241B for ESC,
`<U+202E>` for a bidi override), so a reader sees the same thing in a terminal and a browser;
newline, tab and carriage return stay (HTML reads them as white space), and what no HTML
document may hold (lone surrogates, noncharacters) becomes U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

from reviewtool.textlines import BIDI_CONTROLS, stand_in

# Shown as a stand-in: C0 controls but tab, newline and carriage return; DEL and C1; the line
# and paragraph separators; the bidi controls.
_SHOWN_RE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
# What an HTML document cannot carry at all: lone surrogates and the noncharacters.
_UNREPRESENTABLE = dict.fromkeys(
    [
        *range(0xD800, 0xE000),
        *range(0xFDD0, 0xFDF0),
        *(plane * 0x10000 + low for plane in range(0x11) for low in (0xFFFE, 0xFFFF)),
    ],
    "\ufffd",
)


def _escaped_stand_in(match: re.Match[str]) -> str:
    return str(escape(stand_in(match.group(0))))


def _plain_stand_in(match: re.Match[str]) -> str:
    return stand_in(match.group(0))


def visible_html(value: Any) -> Any:
    """`value` with controls made visible: a str stays a str (the template escapes it),
    Markup stays Markup with each stand-in escaped; anything else is returned unchanged."""
    if isinstance(value, Markup):
        text = str.translate(value, _UNREPRESENTABLE)
        return Markup(_SHOWN_RE.sub(_escaped_stand_in, text))
    if isinstance(value, str):
        return _SHOWN_RE.sub(_plain_stand_in, value.translate(_UNREPRESENTABLE))
    return value


def text_html(text: str) -> Markup:
    """Text from mail as a piece of HTML: controls shown, then escaped."""
    return escape(visible_html(str(text)))
