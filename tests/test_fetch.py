"""`reviewtool fetch` against a local HTTP server shaped like public-inbox."""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reviewtool.bot.fetch import count_messages, fetch_thread, split_thread_url, thread_url
from reviewtool.cli import main
from reviewtool.errors import InputError
from reviewtool.ingest import load
from tests.helpers.mail import posting

SEP = b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"


@pytest.fixture
def lore(tmp_path):
    """An HTTP server with one thread under /all/; yields (base_url, thread mbox, paths asked)."""
    post = posting(8, 3)
    mbox = b"".join(SEP + data + b"\n" for data in post.mails)
    threads = {}
    for msgid in [post.cover_id, *post.ids]:
        threads[f"/all/{msgid}/t.mbox.gz"] = gzip.compress(mbox)
    threads["/all/slash%2Fin%2Fid@example.org/t.mbox.gz"] = gzip.compress(mbox)
    threads["/all/html@example.org/t.mbox.gz"] = b"<html>rate limited</html>"
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            asked.append(self.path)
            body = threads.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/all", mbox, post, asked
    server.shutdown()
    server.server_close()


def test_fetch_downloads_and_decompresses_the_thread(lore):
    base, mbox, post, asked = lore
    data = fetch_thread(f"<{post.ids[1]}>", base)
    assert data == mbox
    assert asked == [f"/all/{post.ids[1]}/t.mbox.gz"]
    assert count_messages(data) == 4


def test_fetch_cli_writes_an_mbox_the_series_layer_reads(lore, tmp_path, capsys):
    base, _, post, _ = lore
    out = tmp_path / "thread.mbox"
    assert main(["fetch", post.cover_id, "--lore", base + "/", "-o", str(out)]) == 0
    assert "4 message(s)" in capsys.readouterr().err
    collection = load([str(out)])
    (series,) = collection.series
    assert series.latest.label == "v8" and len(series.latest.patches) == 3


def test_fetch_accepts_a_message_url_as_lore_prints_it(lore):
    base, mbox, post, asked = lore
    parsed = split_thread_url(f"{base}/{post.cover_id}/")
    assert parsed == (base, post.cover_id)
    assert fetch_thread(parsed[1], parsed[0]) == mbox


def test_message_id_slashes_are_escaped_in_the_url(lore):
    base, mbox, _, asked = lore
    assert fetch_thread("slash/in/id@example.org", base) == mbox
    assert asked[-1] == "/all/slash%2Fin%2Fid@example.org/t.mbox.gz"
    assert thread_url("https://lore.kernel.org/kvm/", "<a+b@c>") == (
        "https://lore.kernel.org/kvm/a+b@c/t.mbox.gz"
    )


def test_unknown_thread_is_a_clear_error_and_exit_2(lore, capsys):
    base, _, _, _ = lore
    with pytest.raises(InputError, match="no thread for <nope@example.org>"):
        fetch_thread("nope@example.org", base)
    assert main(["fetch", "nope@example.org", "--lore", base]) == 2
    err = capsys.readouterr().err
    assert "no thread" in err and "Traceback" not in err


def test_a_page_that_is_not_gzip_is_refused(lore):
    base, _, _, _ = lore
    with pytest.raises(InputError, match="did not send a gzip mbox"):
        fetch_thread("html@example.org", base)


def test_unreachable_server_is_a_clear_error():
    from test_bot_fixtures import free_port

    with pytest.raises(InputError, match="cannot reach"):
        fetch_thread("x@example.org", f"http://127.0.0.1:{free_port()}/all", timeout=5)


# -- hostile or broken servers (issue 16.10) -------------------------------------------------


@pytest.fixture
def odd_server():
    """An HTTP server whose answers the test sets per path: (base_url, routes, bytes_sent)."""
    routes: dict[str, tuple] = {}
    sent: dict[str, int] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            kind, value = routes.get(self.path.split("/t.mbox.gz")[0], ("404", None))
            if kind == "redirect":
                self.send_response(302)
                self.send_header("Location", value)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif kind == "trickle":
                body, pause = value
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                sent[self.path] = 0
                try:
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        sent[self.path] += 1
                        time.sleep(pause)
                except OSError:
                    return  # the client hung up: what we want
            else:
                self.send_error(404)

        def log_message(self, *args):
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", routes, sent
    server.shutdown()
    server.server_close()


def test_redirect_to_ftp_is_refused(odd_server, capsys):
    base, routes, _ = odd_server
    routes["/all/x@example.org"] = ("redirect", "ftp://127.0.0.1/pub/t.mbox.gz")
    code = main(["fetch", "x@example.org", "--lore", f"{base}/all"])
    err = capsys.readouterr().err
    assert code == 2 and "ftp://" in err and "http and https only" in err
    assert len(err.strip().splitlines()) == 1


def test_redirect_loop_is_one_line(odd_server, capsys):
    base, routes, _ = odd_server
    routes["/all/loop@example.org"] = ("redirect", f"{base}/all/loop@example.org/t.mbox.gz")
    code = main(["fetch", "loop@example.org", "--lore", f"{base}/all"])
    err = capsys.readouterr().err
    assert code == 2 and "redirect loop" in err
    assert len(err.strip().splitlines()) == 1, err


def test_a_trickling_server_is_cut_off_at_the_one_deadline(odd_server, capsys):
    base, routes, sent = odd_server
    body = gzip.compress(SEP + b"Subject: x\n\nbody\n") * 3
    # Each byte arrives well within any per-read timeout; all of them would take ~25 s.
    routes["/all/slow@example.org"] = ("trickle", (body, 25 / len(body)))
    code = main(["fetch", "slow@example.org", "--lore", f"{base}/all", "--timeout", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "within 1 s" in err and len(err.strip().splitlines()) == 1
    path = "/all/slow@example.org/t.mbox.gz"
    assert 0 < sent.get(path, 0) < len(body) // 2


def test_fetch_output_into_a_missing_directory_is_exit_2_and_creates_nothing(
    lore, tmp_path, capsys
):
    base, _, post, _ = lore
    target = tmp_path / "nowhere" / "t.mbox"
    assert main(["fetch", post.cover_id, "--lore", base, "-o", str(target)]) == 2
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "nowhere").exists()
