"""Handing replies over: SMTP submission, or files for `--dry-run`.

A transport sends one message and says how it failed: a transient error (connection refused,
4xx) is retried with backoff by the runner, a permanent one (5xx) is not.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from reviewtool.bot.config import SmtpConfig
from reviewtool.errors import ReviewtoolError

Hook = Callable[[str], None]


class SendError(ReviewtoolError):
    """A reply could not be handed over; `permanent` says whether retrying can help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    """Something that takes a finished reply and delivers it."""

    def send(self, message_id: str, sender: str, recipients: list[str], data: bytes) -> None:
        """Deliver one message; raise SendError when it was not accepted."""
        ...

    def close(self) -> None:
        """Release any connection."""
        ...


def _noop(point: str) -> None:
    return None


class SmtpTransport:
    """SMTP submission, one connection reused across a batch of replies."""

    def __init__(self, config: SmtpConfig, hook: Hook | None = None) -> None:
        self.config = config
        self.hook: Hook = hook or _noop
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        try:
            if cfg.tls == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            conn.ehlo_or_helo_if_needed()
            if cfg.tls == "starttls":
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if cfg.username:
                conn.login(cfg.username, cfg.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            # The server's words only: the password must never reach a log.
            raise SendError(
                f"SMTP login as {cfg.username} refused ({exc.smtp_code})", True
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(
                f"cannot reach SMTP server {cfg.host}:{cfg.port}: {_describe(exc)}"
            ) from None
        return conn

    def send(self, message_id: str, sender: str, recipients: list[str], data: bytes) -> None:
        """Run one SMTP transaction (MAIL, RCPT, DATA) for the message."""
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        try:
            code, resp = conn.mail(sender)
            if code != 250:
                raise _reply_error("MAIL FROM", code, resp)
            accepted = 0
            for rcpt in recipients:
                code, resp = conn.rcpt(rcpt)
                if code in (250, 251):
                    accepted += 1
                elif code >= 500:
                    continue  # one bad address must not hold back the rest
                else:
                    raise _reply_error(f"RCPT TO {rcpt}", code, resp)
            if not accepted:
                raise SendError(f"every recipient of {message_id} was refused", permanent=True)
            self.hook("smtp-before-data")
            code, resp = conn.data(data)
            if code != 250:
                raise _reply_error("DATA", code, resp)
        except SendError:
            self._reset()
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise SendError(
                f"SMTP transaction for {message_id} broke off: {_describe(exc)}"
            ) from None

    def _reset(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
        self._conn = None

    def close(self) -> None:
        """QUIT and close the connection."""
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()


class FileTransport:
    """`--dry-run`: each reply becomes one .eml file in a directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.written: list[Path] = []

    def send(self, message_id: str, sender: str, recipients: list[str], data: bytes) -> None:
        """Write the message to `<dir>/<message-id>.eml`."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / (_safe_name(message_id) + ".eml")
            tmp = path.with_suffix(".tmp")
            envelope = f"X-Envelope-From: {sender}\nX-Envelope-To: {', '.join(recipients)}\n"
            # Files on disk get Unix line ends; the wire form keeps CRLF.
            tmp.write_bytes(envelope.encode() + data.replace(b"\r\n", b"\n"))
            tmp.replace(path)
        except OSError as exc:
            raise SendError(f"cannot write dry-run reply: {exc.strerror}", permanent=True) from None
        self.written.append(path)

    def close(self) -> None:
        """Nothing to release."""
        return None


def _safe_name(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", message_id.strip("<>"))[:180]


def _reply_error(stage: str, code: int, resp: bytes | str) -> SendError:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return SendError(f"{stage}: server said {code} {text}", permanent=code >= 500)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace')}"
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
