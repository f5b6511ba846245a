"""The waitress settings of ``warmheart serve``: keep-alive clients get whole, own answers."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from waitress import create_server
from waitress.adjustments import Adjustments

from webmap.serve import CHANNEL_REQUEST_LOOKAHEAD, server_options

BIG = 4 * 1024 * 1024


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    if environ["PATH_INFO"] == "/big":
        start_response("200 OK", [("Content-Length", str(BIG))])
        chunk = bytes(range(256)) * 256  # 64 KiB
        return iter([chunk] * (BIG // len(chunk)))
    body = environ["QUERY_STRING"].encode() * 50
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return iter([body])


@pytest.fixture
def server_port() -> Iterator[int]:
    """A waitress server with serve's settings and a small output high-water mark."""
    server = create_server(
        _app, host="127.0.0.1", port=0, outbuf_high_watermark=65536, **server_options(threads=4)
    )
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:  # the loop polling the socket close() just shut: expected
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        stopping.set()
        server.close()
        server.task_dispatcher.shutdown(timeout=5)
        thread.join(timeout=5)


def test_serve_uses_waitress_public_lookahead_option():
    """serve's waitress runs with channel_request_lookahead and poll(), no private internals."""
    options = server_options(threads=4)
    assert options == {
        "threads": 4,
        "channel_request_lookahead": CHANNEL_REQUEST_LOOKAHEAD,
        "asyncore_use_poll": True,
    }
    adjusted = Adjustments(**options)
    assert adjusted.channel_request_lookahead == CHANNEL_REQUEST_LOOKAHEAD
    assert adjusted.asyncore_use_poll


def test_serves_with_descriptors_above_select_s_limit(server_port: int) -> None:
    """With 1,100 files open in the process (an area's mapped arrays, connections), the server
    still answers: select() cannot watch a descriptor of 1024 or more, poll() can."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if min(soft, hard) < 1400:
        pytest.skip(f"the open-files limit ({soft}) is below 1,400")
    held = [open("/dev/null", "rb") for _ in range(1100)]  # noqa: SIM115 - held open on purpose
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server_port, timeout=10)
        conn.request("GET", "/small?x")
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b"x" * 50
        conn.close()
    finally:
        for fh in held:
            fh.close()


def test_concurrent_keepalive_clients_get_their_own_answers(server_port):
    """Eight keep-alive clients x 40 requests each all receive their own, complete bodies."""
    failures: list[str] = []

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server_port, timeout=20)
        try:
            for j in range(40):
                query = f"c{i}r{j}"
                conn.request("GET", f"/echo?{query}")
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or body != query.encode() * 50:
                    failures.append(f"{query}: {response.status} {body[:40]!r}")
        except OSError as exc:
            failures.append(f"client {i}: {exc!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures


@pytest.mark.parametrize("connection", ["keep-alive", "close"])
def test_large_response_above_the_high_water_mark_is_sent_whole(server_port, connection):
    """A 4 MiB response (64x the high-water mark) read slowly arrives complete, no hang."""
    with socket.create_connection(("127.0.0.1", server_port), timeout=20) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.sendall(f"GET /big HTTP/1.1\r\nHost: x\r\nConnection: {connection}\r\n\r\n".encode())
        data = bytearray()
        while True:
            chunk = sock.recv(16384)
            if not chunk:
                break
            data += chunk
            head, sep, body = bytes(data).partition(b"\r\n\r\n")
            if sep and len(body) >= BIG:
                break
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == (bytes(range(256)) * 256) * (BIG // 65536)
