"""Handing replies over: SMTP submission, or files for `--dry-run`.

A transport sends one message and says how it failed, as a `SendError` of one `kind`:

- `outage`: the server could not be reached, refused the login, hung, or offers no STARTTLS.
  Not the reply's fault: the runner pauses the whole queue and tries again later.
- `retry`: the server answered 4xx to this message; retried with backoff, then given up.
- `permanent`: the server answered 5xx to this message; given up at once (requeueable).
- `unknown`: the message body went out and no answer came back; the server may have
  accepted it. Never resent blindly: it waits for its copy on the list or for `--requeue`.
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

SEND_ERROR_KINDS = ("outage", "retry", "permanent", "unknown")


class SendError(ReviewtoolError):
    """A reply could not be handed over; `kind` says what the runner should do about it."""

    def __init__(self, message: str, permanent: bool = False, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind or ("permanent" if permanent else "retry")
        if self.kind not in SEND_ERROR_KINDS:
            raise ValueError(f"unknown send error kind {self.kind!r}")

    @property
    def permanent(self) -> bool:
        """True when retrying this reply cannot help."""
        return self.kind == "permanent"


class Transport(Protocol):
    """Something that takes a finished reply and delivers it."""

    def open(self) -> None:
        """Get ready to send (connect, log in); SendError of kind `outage` when not possible."""
        ...

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

    def _tls_context(self) -> ssl.SSLContext:
        cafile = str(self.config.ca_file) if self.config.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        where = f"SMTP server {cfg.host}:{cfg.port}"
        try:
            if cfg.tls == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=self._tls_context()
                )
            else:
                conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            conn.ehlo_or_helo_if_needed()
            if cfg.tls == "starttls":
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise SendError(
                        f'{where} does not offer STARTTLS (set smtp.tls = "none" to send '
                        "in plaintext)",
                        kind="outage",
                    )
                conn.starttls(context=self._tls_context())
                conn.ehlo()
            if cfg.username:
                if cfg.tls == "none" and not cfg.allow_plaintext_auth:
                    # The config loader refuses this too; a config built in code must not leak.
                    conn.close()
                    raise SendError(
                        f"refusing to send the SMTP password to {where} in plaintext "
                        "(use smtp.tls, or set smtp.allow_plaintext_auth = true)",
                        kind="outage",
                    )
                conn.login(cfg.username, cfg.password or "")
        except SendError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            # The server's words only: the password must never reach a log.
            raise SendError(
                f"SMTP login as {cfg.username} refused ({exc.smtp_code})", kind="outage"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"cannot reach {where}: {_describe(exc)}", kind="outage") from None
        return conn

    def open(self) -> None:
        """Connect (and log in) now; a SendError of kind `outage` when that is not possible."""
        if self._conn is None:
            self._conn = self._connect()

    def send(self, message_id: str, sender: str, recipients: list[str], data: bytes) -> None:
        """Run one SMTP transaction (MAIL, RCPT, DATA) for the message."""
        self.open()
        conn = self._conn
        assert conn is not None
        body_sent = False
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
            code, resp = conn.docmd("DATA")
            if code != 354:
                raise _reply_error("DATA", code, resp)
            # From here on the server may hold the whole message: a lost answer is `unknown`.
            body_sent = True
            conn.send(_dot_stuffed(data))
            code, resp = conn.getreply()
            if code != 250:
                raise _reply_error("end of DATA", code, resp)
        except SendError:
            self._reset()
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            if body_sent:
                raise SendError(
                    f"no answer after the body of {message_id} was sent ({_describe(exc)}); "
                    "it may have been delivered",
                    kind="unknown",
                ) from None
            raise SendError(
                f"SMTP transaction for {message_id} broke off: {_describe(exc)}", kind="outage"
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

    def open(self) -> None:
        """Nothing to connect to."""
        return None

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


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload on the wire: CRLF line ends, leading dots doubled, `.` terminator."""
    wire = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    wire = re.sub(rb"(?m)^\.", b"..", wire)
    if not wire.endswith(b"\r\n"):
        wire += b"\r\n"
    return wire + b".\r\n"


def _safe_name(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", message_id.strip("<>"))[:180]


def _reply_error(stage: str, code: int, resp: bytes | str) -> SendError:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return SendError(f"{stage}: server said {code} {text}", permanent=code >= 500)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace')}"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    if "timed out" in text:
        return "timed out"
    return text or type(exc).__name__
