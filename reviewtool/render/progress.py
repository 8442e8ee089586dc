"""A small progress bar for long reads: drawn on stderr only when stderr is a terminal.

Pass an instance wherever a `progress` callable is accepted (the series layer's `load`): it is
called as `progress(done, total=None, what="")`. In a pipe or a CI log it stays silent, since a
stream of carriage returns there is noise, not information.
"""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import TextIO

# Redraw at most this often; a terminal cannot show more and redrawing costs time per message.
REDRAW_INTERVAL_S = 0.1
# Do not draw at all for work that ends sooner than this: a flash of a bar is noise.
SHOW_AFTER_S = 0.3
BAR_WIDTH = 30
# What a step is called may come from mail (a series title): no control character of it, ESC
# included, reaches the terminal.
_CONTROLS = dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0)], "\ufffd")


class ProgressBar:
    """Draws `label [#####-----] done/total what` on a terminal; does nothing elsewhere."""

    def __init__(
        self,
        label: str = "reading",
        stream: TextIO | None = None,
        enabled: bool | None = None,
        clock=time.monotonic,
    ) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_tty(self.stream) if enabled is None else enabled
        self._clock = clock
        self._started = clock()
        self._last_draw = 0.0
        self._drawn = False
        self._width = 0
        self.done = 0
        self.total: int | None = None

    def __call__(self, done: int, total: int | None = None, what: str = "", **_: object) -> None:
        """Record progress; redraw when enough time has passed since the last draw."""
        self.done = done
        if total is not None:
            self.total = total
        if not self.enabled:
            return
        now = self._clock()
        if now - self._started < SHOW_AFTER_S:
            return
        if self._drawn and now - self._last_draw < REDRAW_INTERVAL_S:
            return
        self._last_draw = now
        self._draw(self.line(what))

    update = __call__

    def line(self, what: str = "") -> str:
        """The text of the bar as it would be drawn now."""
        if self.total:
            frac = min(max(self.done / self.total, 0.0), 1.0)
            filled = int(frac * BAR_WIDTH)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            text = f"{self.label} [{bar}] {self.done}/{self.total}"
        else:
            text = f"{self.label} {self.done}"
        return f"{text} {what.translate(_CONTROLS)}".rstrip()

    def _draw(self, text: str) -> None:
        pad = max(self._width - len(text), 0)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)
        self._drawn = True

    def close(self) -> None:
        """Erase the bar so the next line of output starts clean."""
        if self.enabled and self._drawn:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# The name the CLI's shared loader imports.
Progress = ProgressBar
