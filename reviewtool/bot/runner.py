"""One bot cycle: ingest new mail, settle doubts, decide on ready revisions, send the outbox.

Each step commits before the next begins (see state.py), so the process may die anywhere and
the next start picks up where the state says, sending what is unsent and nothing twice.

The runner calls its `hook` (shared with the store and the transport) with the name of each
point in HOOK_POINTS as a run passes it; the crash tests kill the process there and walk
through all of them. Production code never reads anything that makes it crash.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reviewtool.bot.config import BotConfig
from reviewtool.bot.ingest import classify
from reviewtool.bot.reply import address_of, build_reply, reply_message_id
from reviewtool.bot.smtp import SendError, Transport
from reviewtool.bot.state import Ingested, PendingRevision, Store
from reviewtool.bot.summary import Summary, report_name, summarize, wrap, write_report
from reviewtool.bot.watchers import Watcher
from reviewtool.errors import ReviewtoolError

HOOK_POINTS = (
    "ingest-uncommitted",  # inside the transaction that records a batch of mail
    "after-ingest-commit",
    "review-started",  # a review's start is committed, the analyses are running
    "decide-uncommitted",  # inside the transaction that records a decision and its reply
    "after-decide-commit",
    "begin-send-uncommitted",  # inside the transaction that marks a reply `sending`
    "before-send",  # `sending` committed, SMTP not yet started
    "smtp-before-data",  # during the SMTP transaction: recipients given, no DATA yet
    "after-send",  # the server accepted the message, `sent` not yet recorded
    "mark-sent-uncommitted",  # inside the transaction that marks a reply `sent`
    "after-mark-sent",
)
# Reviews of one revision that may end the process before it is given up as `failed`: one
# death may be the machine's (a restart, the OOM killer taking the biggest process), a second
# one on the same revision is the revision's.
MAX_REVIEW_ATTEMPTS = 2
# `--once` waits for a retry only when it is due this soon; later ones wait for the next run.
ONCE_RETRY_WINDOW_SECONDS = 300.0
HOUR = 3600.0

Log = Callable[[str], None]


@dataclass
class RunStats:
    """What one run did."""

    read: int = 0
    added: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    decided: int = 0
    queued: int = 0
    skipped: int = 0
    sent: int = 0
    confirmed: int = 0  # in-doubt sends whose copy came back through the list
    retried: int = 0
    failed: int = 0
    deferred: int = 0  # held back by the per-hour limit
    unknown: int = 0  # body sent, no answer: perhaps delivered, never resent on its own
    outages: int = 0  # times the queue was paused because the server was unavailable
    paused: str | None = None  # why the queue is paused at the end of the run
    errors: list[str] = field(default_factory=list)
    # "location: why" of each piece a damaged source could not give (a truncated pack, a lost
    # object): the run read what it could, and says so rather than look clean.
    damaged: list[str] = field(default_factory=list)


def _quiet(message: str) -> None:
    return None


class BotRunner:
    """Wires sources, state, review and transport together."""

    def __init__(
        self,
        config: BotConfig,
        store: Store,
        watchers: Sequence[Watcher],
        transport: Transport,
        *,
        hook: Callable[[str], None] | None = None,
        log: Log | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.store = store
        self.watchers = list(watchers)
        self.transport = transport
        self.hook = hook or (lambda point: None)
        self.store.hook = self.hook
        if hasattr(transport, "hook"):
            transport.hook = self.hook  # type: ignore[attr-defined]
        self.log = log or _quiet
        self.clock = clock
        self.sleep = sleep
        self.own_address = address_of(config.from_addr)

    # the cycle

    def run_once(self, drain: bool = True) -> RunStats:
        """Ingest, decide and send; with `drain`, wait for retries due soon."""
        stats = RunStats()
        self.cycle(stats)
        while drain:
            # Only retries: a reply in doubt waits for its list copy until the next run.
            due = self.store.next_due()
            paused_until = self.paused_until()
            if due is not None and paused_until is not None:
                due = max(due, paused_until)
            wait = None if due is None else due - self.clock()
            if wait is None or wait > ONCE_RETRY_WINDOW_SECONDS or self._budget() <= 0:
                break
            self.sleep(max(wait, 0.0))
            self.cycle(stats)
        return stats

    def run_forever(self, interval: float, stop: Callable[[], bool] | None = None) -> RunStats:
        """Cycle every `interval` seconds (sooner when a retry falls due) until `stop()`."""
        stats = RunStats()
        while True:
            self.cycle(stats)
            if stop is not None and stop():
                return stats
            wait = self._next_wait()
            self.sleep(interval if wait is None else max(0.0, min(interval, wait)))

    def cycle(self, stats: RunStats) -> None:
        """One pass: ingest, reconcile doubtful sends, decide, flush the outbox."""
        self.ingest(stats)
        self.reconcile(stats)
        self.decide(stats)
        self.flush(stats)

    # steps

    def ingest(self, stats: RunStats) -> None:
        """Read every watcher from its cursor and index what is new (the series index groups
        it; the assembler makes revisions of it when the bot decides)."""
        for watcher in self.watchers:
            known = self.store.known_files(watcher.source)
            damaged: list[str] = []
            for batch in watcher.poll(self.store.cursor(watcher.source), known):
                now = self.clock()
                rows = []
                for incoming in batch.messages:
                    if incoming.error is not None:
                        # The source could not give this piece: accounted, with the reason.
                        row = Ingested("rejected", incoming.location, now, reason=incoming.error)
                        if incoming.damaged:
                            damaged.append(f"{incoming.location}: {incoming.error}")
                    else:
                        row, _ = classify(incoming.data, incoming.location, now, self.own_address)
                    rows.append(row)
                    stats.kinds[row.kind] = stats.kinds.get(row.kind, 0) + 1
                stats.read += len(rows)
                stats.added += self.store.record_batch(
                    watcher.source, rows, cursor=batch.cursor, files=batch.files
                )
                self.hook("after-ingest-commit")
            if damaged:
                self.log(
                    f"{watcher.source} is damaged: {len(damaged)} piece(s) could not be read, "
                    f"the rest was read; first: {damaged[0]}"
                )
                stats.damaged.extend(d for d in damaged if d not in stats.damaged)

    def reconcile(self, stats: RunStats) -> None:
        """Settle replies whose send was cut short: delivered if the list has a copy."""
        now = self.clock()
        for row in self.store.outbox("sending"):
            if self.store.has_message(row.message_id):
                self.store.mark_sent(row.message_id, now, "confirmed by its copy on the list")
                stats.confirmed += 1
                self.log(f"reply <{row.message_id}> was delivered before the restart")
            elif now - (row.sending_since or 0.0) >= self.config.echo_wait_seconds:
                self.store.mark_retry(
                    row.message_id, now, "send was interrupted; sending again, same Message-ID"
                )
                stats.retried += 1
        for row in self.store.outbox("unknown"):
            if self.store.has_message(row.message_id):
                self.store.mark_sent(row.message_id, now, "confirmed by its copy on the list")
                stats.confirmed += 1
                self.log(f"reply <{row.message_id}> in doubt was delivered: its copy is back")

    def decide(self, stats: RunStats) -> None:
        """Review each revision that is complete or has settled, and queue its reply."""
        now = self.clock()
        for pending in self.store.pending_revisions():
            if not pending.complete and now - pending.first_seen < self.config.settle_seconds:
                continue
            self._decide_one(pending, now, stats)

    def _decide_one(self, pending: PendingRevision, now: float, stats: RunStats) -> None:
        key = pending.key
        members = [m.message_id for m in pending.members]
        if not pending.indices:
            self.store.decide(
                key, "skipped", "a cover letter without patches", now=now, members=members
            )
            stats.skipped += 1
            return
        max_age = self.config.max_age_days * 86400
        if max_age and pending.sent is not None and now - pending.sent > max_age:
            note = "posted before the bot's reply window"
            self.store.decide(key, "too-old", note, now=now, members=members)
            stats.skipped += 1
            return
        if self.store.has_message(reply_message_id(key, self.config.from_addr)):
            # Our reply is already on the list (the state was lost or rebuilt): never twice.
            note = "our reply is already on the list"
            self.store.decide(key, "answered-before", note, now=now, members=members)
            stats.skipped += 1
            return
        attempts = self.store.review_attempts(key)
        if attempts >= MAX_REVIEW_ATTEMPTS:
            # Its review ended the process each time: never again, or the bot dies at every
            # restart and no other series is answered.
            note = f"its review ended the bot {attempts} times; not reviewed again"
            self.store.decide(key, "failed", note, now=now, members=members)
            stats.errors.append(f"{key}: {note}")
            stats.skipped += 1
            self.log(f"gave up on {key}: {note}")
            return
        # Earlier versions are in the revision's index group (thread, change-id, titles).
        rows, history = list(pending.members), list(pending.history)
        cfg = self.config
        report_url = None
        name = None
        if cfg.base_url and cfg.report_dir:
            name = report_name(key, pending.label)
            report_url = f"{cfg.base_url.rstrip('/')}/{name}"
        self.store.begin_review(key, now)
        try:
            self.hook("review-started")
            summary = summarize(pending, rows, history, report_url, want_html=name is not None)
            if name and cfg.report_dir and not self._write_report(name, summary):
                report_url = None  # no page to link to: answer without the link
                summary = summarize(pending, rows, history)
            if summary.clean and not cfg.reply_when_clean:
                note = "no findings; replies to clean series are off"
                self.store.decide(key, "clean", note, now=now, members=members)
                stats.skipped += 1
                return
            body = short_text(summary, report_url) if summary.clean else summary.text
            reply = build_reply(cfg, key, summary.target, summary.target_data, body)
        except Exception as exc:  # noqa: BLE001 - one bad series must not stop the list's bot
            note = f"{type(exc).__name__}: {exc}"
            self.store.decide(key, "error", note, now=now, members=members)
            stats.errors.append(f"{key}: {note}")
            self.log(f"could not review {key}: {note}")
            return
        self.store.decide(
            key,
            "reply",
            f"{summary.label}: {summary.findings} finding(s)",
            reply=(reply.message_id, reply.sender, reply.recipients, reply.data),
            now=now,
            members=members,
        )
        self.hook("after-decide-commit")
        stats.decided += 1
        stats.queued += 1
        self.log(f'queued reply to {summary.label} "{summary.title}" <{reply.message_id}>')

    def _write_report(self, name: str, summary: Summary) -> bool:
        """Write the HTML report; False when there is none or it cannot be written."""
        if not summary.report_html or self.config.report_dir is None:
            return False
        try:
            write_report(self.config.report_dir, name, summary.report_html)
        except OSError as exc:
            self.log(f"cannot write report {name}: {exc.strerror}")
            return False
        except ReviewtoolError as exc:
            self.log(f"cannot write report {name}: {exc}")
            return False
        return True

    def flush(self, stats: RunStats) -> None:
        """Send due replies within the per-hour limit. A reply the server refuses backs off
        on its own; an outage (unreachable, login refused, hung) pauses the whole queue."""
        cfg = self.config
        paused = self.store.paused()
        if paused is not None and paused[0] > self.clock():
            stats.paused = paused[1]
            return
        due = self.store.due(self.clock())
        if not due:
            return
        try:
            try:
                self.transport.open()
            except SendError as exc:
                if exc.kind != "outage":
                    raise
                self._pause(str(exc), stats)
                return
            for row in due:
                if row.attempts and self.store.has_message(row.message_id):
                    # An earlier attempt failed late (after DATA) yet went out: the list has it.
                    self.store.mark_sent(row.message_id, self.clock(), "confirmed by the list")
                    stats.confirmed += 1
                    continue
                if self._budget() <= 0:
                    stats.deferred += 1
                    continue
                if not self.store.begin_send(row.message_id, self.clock()):
                    continue
                self.hook("before-send")
                try:
                    self.transport.send(row.message_id, row.sender, row.recipients, row.data)
                except Exception as exc:  # noqa: BLE001 - SendError, or anything a transport raised
                    kind = exc.kind if isinstance(exc, SendError) else "retry"
                    if kind == "outage":
                        self.store.release(row.message_id, self.clock(), str(exc))
                        self._pause(str(exc), stats)
                        return
                    if kind == "unknown":
                        self.store.mark_unknown(row.message_id, str(exc))
                        stats.unknown += 1
                        self.log(f"<{row.message_id}> in doubt, not resent: {exc}")
                        # A server that swallowed a body without answering is not to be fed
                        # the rest of the queue, one timeout each.
                        self._pause(str(exc), stats)
                        return
                    attempts = row.attempts + 1
                    if kind == "permanent" or attempts >= cfg.max_attempts:
                        self.store.mark_failed(row.message_id, str(exc))
                        stats.failed += 1
                        self.log(f"gave up on <{row.message_id}> (--requeue sends it again): {exc}")
                    else:
                        delay = backoff(attempts, cfg.retry_base_seconds, cfg.retry_max_seconds)
                        self.store.mark_retry(row.message_id, self.clock() + delay, str(exc))
                        stats.retried += 1
                        self.log(
                            f"send of <{row.message_id}> failed ({exc}); retry in {delay:.0f}s"
                        )
                    continue
                self.hook("after-send")
                self.store.mark_sent(row.message_id, self.clock())
                self.hook("after-mark-sent")
                stats.sent += 1
                self._resume()
        finally:
            self.transport.close()

    def paused_until(self) -> float | None:
        """When a paused queue (SMTP outage) may be tried again, or None when not paused."""
        paused = self.store.paused()
        return paused[0] if paused else None

    def _pause(self, reason: str, stats: RunStats) -> None:
        """Hold the whole queue back after an outage, doubling the pause each time in a row."""
        cfg = self.config
        outages = self.store.outages_in_a_row() + 1
        delay = backoff(outages, cfg.retry_base_seconds, cfg.retry_max_seconds)
        self.store.pause(self.clock() + delay, reason)
        stats.paused = reason
        stats.outages += 1
        self.log(f"SMTP unavailable, queue paused for {delay:.0f}s: {reason}")

    def _resume(self) -> None:
        if self.store.paused() is not None or self.store.outages_in_a_row():
            self.store.resume()

    # pacing

    def _budget(self) -> int:
        """Replies still allowed this hour (a large number when there is no limit)."""
        if self.config.per_hour <= 0:
            return 1 << 30
        return self.config.per_hour - self.store.sent_since(self.clock() - HOUR)

    def _next_wait(self) -> float | None:
        """Seconds until a pending retry or an in-doubt reply needs attention, or None."""
        now = self.clock()
        times = []
        due = self.store.next_due()
        paused_until = self.paused_until()
        if due is not None and paused_until is not None:
            due = max(due, paused_until)
        if due is not None and self._budget() > 0:  # at the limit, the interval paces us
            times.append(due)
        for row in self.store.outbox("sending"):
            times.append((row.sending_since or now) + self.config.echo_wait_seconds)
        return min(times) - now if times else None


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait after the `attempt`-th failure: base, 2*base, 4*base ... up to cap."""
    return min(cap, base * (2 ** max(0, attempt - 1)))


def short_text(summary: Summary, report_url: str | None) -> str:
    """The short reply to a series with nothing to report."""
    total = summary.target.prefix.total or 1
    count = summary.patches or total
    size = f"{count} patch{'es' if count != 1 else ''}"
    if count != total:
        size = f"{count} of {total} patches"  # a point revision rerolls only some
    lines = [
        f'reviewtool reviewed {summary.label} of "{summary.title}" ({size}) '
        "and found nothing to report."
    ]
    if summary.changes:
        lines += ["", f"Patches {summary.changes}."]
    if summary.unchecked:
        lines += ["", f"Not checked this time: {', '.join(summary.unchecked)}."]
    if report_url:
        lines += ["", "Full report:", report_url]
    return wrap("\n".join(lines) + "\n")
