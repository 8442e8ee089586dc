"""Download one thread from a public-inbox HTTP server (lore.kernel.org and its kin).

public-inbox serves every thread as `<base>/<message-id>/t.mbox.gz`; the Message-ID goes in
the path with `/` and other unsafe characters percent-escaped.
"""

from __future__ import annotations

import gzip
import io
import re
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


def fetch_thread(
    message_id: str, base_url: str = DEFAULT_LORE, timeout: float = DEFAULT_TIMEOUT
) -> bytes:
    """Download the thread as an mbox (decompressed)."""
    url = thread_url(base_url, message_id)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read(MAX_THREAD_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise InputError(f"no thread for <{message_id}> at {base_url}") from None
        raise InputError(f"{url}: server answered {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise InputError(f"cannot reach {base_url}: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:
        raise InputError(f"cannot download {url}: {exc}") from None
    return _gunzip(payload, url)


def _gunzip(payload: bytes, url: str) -> bytes:
    if not payload.startswith(b"\x1f\x8b"):
        if payload.startswith(b"From "):
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
