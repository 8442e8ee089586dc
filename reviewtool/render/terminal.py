"""Text for a terminal: the one place where colour meets untrusted text.

Every text door builds its output with a `Painter` and hands the whole of it to
`Painter.finish`, which first makes every control character and bidi control visible
(`textlines.visible_text`) and only then turns the painter's own marks into ANSI colour. A
mark is a random token per painter, so an ESC sequence (or a look-alike of a mark) in a
subject, path or mail body can never become a live escape: it is shown, not obeyed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from reviewtool.textlines import visible_text

# SGR parameters by name; renderers may pass their own table.
ANSI_CODES: Mapping[str, str] = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


class Painter:
    """Marks text for colour; `finish` makes the whole output safe and colours it."""

    def __init__(self, colour: bool, codes: Mapping[str, str] = ANSI_CODES) -> None:
        self.colour = colour
        self.codes = codes
        self._token = os.urandom(8).hex()
        self._mark = re.compile(r"\{" + self._token + r":([a-z+]*)\}")

    def __call__(self, text: str, *tones: str) -> str:
        """`text` marked to be shown in `tones` (nothing when colour is off)."""
        known = [tone for tone in tones if tone in self.codes]
        if not self.colour or not known:
            return text
        return f"{{{self._token}:{'+'.join(known)}}}{text}{{{self._token}:}}"

    def finish(self, text: str) -> str:
        """The output made visible (controls, bidi), then the painter's marks as colour."""
        safe = visible_text(text)
        if not self.colour:
            return safe
        return self._mark.sub(self._escape, safe)

    def _escape(self, match: re.Match[str]) -> str:
        tones = match.group(1)
        if not tones:
            return "\x1b[0m"
        return "\x1b[" + ";".join(self.codes[tone] for tone in tones.split("+")) + "m"


def terminal_safe(text: str) -> str:
    """Uncoloured text for a terminal, with every control and bidi character made visible."""
    return visible_text(text)
