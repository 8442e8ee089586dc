"""Bidi controls in HTML: shown, never obeyed.

HTML escaping stops markup, not U+202E: a file named `safe\u202egnp.exe` still reads as
`safeexe.png` in a browser. `show_bidi_html` is what the renderers call on every value they
print (the jinja `finalize` hook in `render.html`, and anywhere a renderer builds Markup by
hand): a bidi control becomes the visible text `<U+202E>`, escaped like any other text.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from reviewtool.textlines import BIDI_CONTROLS, show_bidi


def show_bidi_html(value: Any) -> Any:
    """`value` with bidi controls made visible: a str stays a str (the template escapes it),
    Markup stays Markup with the stand-in escaped; anything else is returned unchanged."""
    if isinstance(value, Markup):
        if not any(char in value for char in BIDI_CONTROLS):
            return value
        return Markup("").join(
            escape(show_bidi(char)) if char in BIDI_CONTROLS else Markup(char)
            for char in str(value)
        )
    if isinstance(value, str):
        return show_bidi(value)
    return value
