"""Ingest: sources -> mails -> series, the one entry point every door reads mail through.

It sits above the three layers it joins, so that `series` imports only `mail`
(DESIGN.md's table) while the CLI, the review, the hook and the bot still make one call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from reviewtool.errors import InputError
from reviewtool.mail.model import Mail
from reviewtool.mail.parse import parse_mail
from reviewtool.series.assemble import Collection, assemble
from reviewtool.series.model import Accounting, Rejected
from reviewtool.sources import RawMessage, iter_messages
from reviewtool.sources.reread import can_read_again, read_again

Progress = Callable[[int], None]
# Body text kept in memory as read; past it, patches and replies keep headers, trailers,
# files and patch-id only and are read back from their mbox offset or file when an
# analysis needs the text. Small inputs (every test, a series or two) never reach it.
KEEP_TEXT_BYTES = 32 * 2**20


def load(
    paths: Iterable[str],
    progress: Progress | None = None,
    *,
    sloppy_trailers: bool = False,
    keep_text_bytes: int = KEEP_TEXT_BYTES,
) -> Collection:
    """Read every message under the paths and assemble the series they hold."""
    skipped: list[str] = []
    damaged: list[str] = []

    def watched() -> Iterator[RawMessage]:
        for raw in iter_messages(list(paths), skipped):
            if raw.damaged:
                damaged.append(f"{raw.location}: {raw.error}")
            yield raw

    collection = assemble_raw(
        watched(),
        progress,
        sloppy_trailers=sloppy_trailers,
        keep_text_bytes=keep_text_bytes,
    )
    collection.skipped_files = skipped
    collection.damaged = damaged
    if skipped:
        collection.notes.append(
            f"{len(skipped)} file(s) skipped as not mail: {', '.join(skipped[:5])}"
        )
    return collection


def decode_all(
    raws: Iterable[RawMessage],
    accounting: Accounting,
    progress: Progress | None = None,
    keep_text_bytes: int | None = None,
) -> Iterator[Mail]:
    """Decode each message; a message that cannot be decoded is rejected with its reason.

    With `keep_text_bytes`, once that much body text is held, each further patch or reply
    drops its text (read back from the source on use) so memory holds headers only."""
    kept = 0
    plain_files: dict[str, bool] = {}
    for raw in raws:
        accounting.read += 1
        if progress is not None:
            progress(accounting.read)
        if raw.error:
            accounting.rejected.append(Rejected(raw.location, raw.error))
            continue
        try:
            mail = parse_mail(raw.data, raw.location)
        except InputError as exc:
            accounting.rejected.append(Rejected(raw.location, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - mail is untrusted; one bad message never stops a run
            accounting.rejected.append(
                Rejected(raw.location, f"could not decode: {type(exc).__name__}: {exc}")
            )
            continue
        if keep_text_bytes is not None:
            if kept >= keep_text_bytes and (mail.has_diff or mail.prefix.reply):
                if can_read_again(raw.location, plain_files):
                    mail.reread = decode_again
                if mail.release_text():
                    yield mail
                    continue
            kept += len(mail.body)
        yield mail


def decode_again(location: str) -> Mail:
    """The message at `location` read from its source and decoded again (a released text's
    way back; the mail model holds this function, so it imports neither sources nor parser)."""
    return parse_mail(read_again(location), location)


def assemble_raw(
    raws: Iterable[RawMessage],
    progress: Progress | None = None,
    *,
    sloppy_trailers: bool = False,
    keep_text_bytes: int | None = KEEP_TEXT_BYTES,
) -> Collection:
    """Decode raw messages and assemble them."""
    accounting = Accounting()
    mails = decode_all(raws, accounting, progress, keep_text_bytes)
    return assemble(mails, accounting, sloppy_trailers=sloppy_trailers)
