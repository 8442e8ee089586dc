"""Download one thread from a public-inbox HTTP server (lore.kernel.org and its kin).

public-inbox serves every thread as `<base>/<message-id>/t.mbox.gz`; the Message-ID goes in
the path with `/` and other unsafe characters percent-escaped.
"""

from __future__ import annotations

import gzip
import io
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

from reviewtool import __version__
from reviewtool.errors import InputError, UsageError

DEFAULT_LORE = "https://lore.kernel.org/all"
DEFAULT_TIMEOUT = 60.0
# Characters public-inbox leaves unescaped in a Message-ID path segment.
MSGID_SAFE = "@!$&'()*+,;=:~"
# A thread bigger than this (decompressed) is refused rather than filling memory.
MAX_THREAD_BYTES = 512 << 20
# Redirects followed before giving up (urllib's own limit, named here).
MAX_REDIRECTS = 10
READ_CHUNK = 1 << 16
USER_AGENT = f"reviewtool/{__version__} (+fetch)"
_URL_MSGID_RE = re.compile(r"^(?P<base>https?://.+?)/(?P<msgid>[^/]+@[^/]+)(?:/.*)?$")


def normalise_message_id(text: str) -> str:
    """`<id@host>`, `id@host` or `mid:id@host` -> `id@host`."""
    text = text.strip()
    if text.lower().startswith("mid:"):
        text = text[4:]
    text = text.strip().strip("<>").strip()
    if not text or any(c.isspace() for c in text):
        raise UsageError(f"{text!r} is not a Message-ID")
    return text


def split_thread_url(text: str) -> tuple[str, str] | None:
    """(base, message-id) when `text` is a message URL such as lore prints, else None."""
    match = _URL_MSGID_RE.match(text.strip())
    if not match:
        return None
    return match.group("base"), urllib.parse.unquote(match.group("msgid"))


def thread_url(base_url: str, message_id: str) -> str:
    """The `t.mbox.gz` URL of the thread holding `message_id`."""
    base = base_url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise UsageError(f"--lore {base_url!r}: expected an http:// or https:// URL")
    escaped = urllib.parse.quote(normalise_message_id(message_id), safe=MSGID_SAFE)
    return f"{base}/{escaped}/t.mbox.gz"


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only: a thread URL must never lead to ftp:// or file://."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - urllib's
        scheme = urllib.parse.urlsplit(newurl).scheme.lower()
        if scheme not in ("http", "https"):
            raise InputError(
                f"{req.full_url}: redirected to a {scheme or 'relative'}:// URL, "
                "refused (http and https only)"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_thread(
    message_id: str, base_url: str = DEFAULT_LORE, timeout: float = DEFAULT_TIMEOUT
) -> bytes:
    """Download the thread as an mbox (decompressed), all within one `timeout` deadline."""
    url = thread_url(base_url, message_id)
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    opener = urllib.request.build_opener(_HttpOnlyRedirects())
    try:
        with opener.open(request, timeout=timeout) as response:
            payload = _read_by(response, deadline, timeout, url)
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise InputError(
                f"{url}: redirect loop (more than {MAX_REDIRECTS} redirects), gave up"
            ) from None
        if exc.code == 404:
            raise InputError(f"no thread for <{message_id}> at {base_url}") from None
        raise InputError(f"{url}: server answered {exc.code} {_one_line(exc.reason)}") from None
    except urllib.error.URLError as exc:
        raise InputError(f"cannot reach {base_url}: {_one_line(exc.reason)}") from None
    except (TimeoutError, OSError) as exc:
        if time.monotonic() >= deadline:
            raise InputError(f"{url}: no complete answer within {timeout:g} s") from None
        raise InputError(f"cannot download {url}: {_one_line(exc)}") from None
    return _gunzip(payload, url)


def _read_by(response, deadline: float, timeout: float, url: str) -> bytes:
    """The body, read in pieces until `deadline`: a server trickling a byte a second must not
    hold the command past its timeout (a per-read socket timeout alone never fires then)."""
    sock = _socket_of(response)
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise InputError(f"{url}: no complete answer within {timeout:g} s")
        if sock is not None:
            sock.settimeout(left)
        chunk = response.read1(READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_THREAD_BYTES:
            return b"".join(chunks)  # _gunzip refuses it with the size in the message


def _socket_of(response):
    """The socket under an http.client response, to give each read what is left of the
    deadline (None where the layout differs; the per-read timeout still bounds each read)."""
    raw = getattr(getattr(response, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if hasattr(sock, "settimeout") else None


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _gunzip(payload: bytes, url: str) -> bytes:
    if not payload.startswith(b"\x1f\x8b"):
        if payload.startswith(b"From "):
            if len(payload) > MAX_THREAD_BYTES:
                raise InputError(f"{url}: thread larger than {MAX_THREAD_BYTES >> 20} MiB")
            return payload  # a server (or proxy) that already decompressed it
        raise InputError(f"{url}: the server did not send a gzip mbox")
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(payload)) as fh:
            data = fh.read(MAX_THREAD_BYTES + 1)  # bounded: a gzip bomb stops here
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{url}: damaged gzip data: {exc}") from None
    if len(data) > MAX_THREAD_BYTES:
        raise InputError(f"{url}: thread larger than {MAX_THREAD_BYTES >> 20} MiB")
    if data and not data.startswith(b"From "):
        raise InputError(f"{url}: the download is not an mbox")
    return data


def count_messages(mbox: bytes) -> int:
    """How many messages an mbox holds (separator lines after a blank line)."""
    if not mbox:
        return 0
    return int(mbox.startswith(b"From ")) + len(re.findall(rb"\n\nFrom ", mbox))
