"""HTTP hygiene (findings 7 and 8), with raw sockets against the real server process: a request
head past its limits is refused at once without being buffered, and a head that arrives too
slowly is cut off, so huge or slow headers cost nothing."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import LiveServer

HEAD_TIMEOUT = 1.0


@pytest.fixture
def server(seeded_db: str, tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(seeded_db, tmp_path / "server.log", HEADER_TIMEOUT_SECONDS=str(HEAD_TIMEOUT)) as live:
        yield live


def _connect(server: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one answer (read until the connection closes or the body ends)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed without an answer: {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _send(sock: socket.socket, data: bytes) -> None:
    """Send as much as the server takes; it may refuse and close before the rest is written."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def _request(path: str = "/graphql?query=%7B__typename%7D", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _code(body: bytes) -> str:
    return str(json.loads(body)["errors"][0]["extensions"]["code"])


def test_headers_within_the_limits_are_served(server: LiveServer) -> None:
    with _connect(server) as sock:
        _send(sock, _request(headers={"X-Pad": "a" * 16_000, "X-Pad-2": "b" * 16_000, "X-Pad-3": "c" * 16_000}))
        status, _headers, body = _answer(sock)
    assert status == 200 and json.loads(body) == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (_request(headers={"X-Long": "a" * 16_400}), 431, "REQUEST_HEADERS_TOO_LARGE"),
        (_request(headers={f"X-Pad-{i}": "a" * 15_000 for i in range(5)}), 431, "REQUEST_HEADERS_TOO_LARGE"),
        (_request(path="/graphql?query=" + "a" * 17_000), 414, "REQUEST_LINE_TOO_LARGE"),
    ],
    ids=["one header line over 16 KB", "headers over 64 KB in all", "request line over 16 KB"],
)
def test_a_head_past_its_limits_is_refused(server: LiveServer, request_bytes: bytes, status: int, code: str) -> None:
    with _connect(server) as sock:
        _send(sock, request_bytes)
        got, headers, body = _answer(sock)
        assert sock.recv(1) == b""  # and the connection is closed
    assert (got, headers["connection"], _code(body)) == (status, "close", code)


def test_a_64_mb_header_line_is_refused_before_it_is_read(server: LiveServer) -> None:
    started = time.monotonic()
    with _connect(server) as sock:
        _send(sock, b"GET /graphql HTTP/1.1\r\nHost: x\r\nX-Huge: ")
        sent = 0
        chunk = b"a" * 65536
        try:
            while sent < 64 * 2**20:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        status: int | None = None  # None: the answer was lost with the reset of what we kept sending
        with contextlib.suppress(ConnectionError, OSError):
            status = _answer(sock)[0]
    assert status in (431, None)
    assert sent < 8 * 2**20, f"the server read {sent:,} bytes of one header line"
    assert time.monotonic() - started < 5
    # and it serves the next client at once
    with _connect(server) as sock:
        _send(sock, _request())
        assert _answer(sock)[0] == 200


def test_a_client_that_sent_a_whole_oversized_head_reads_its_431(server: LiveServer) -> None:
    """The refusal lingers (what follows is read and dropped for a moment): no reset before the answer."""
    with _connect(server) as sock:
        sock.sendall(_request(headers={f"X-Pad-{n}": "a" * 8_000 for n in range(12)}))  # 96 KB of headers
        status, headers, body = _answer(sock)
    assert (status, headers["connection"], _code(body)) == (431, "close", "REQUEST_HEADERS_TOO_LARGE")


def test_slow_and_silent_heads_are_cut_off(server: LiveServer) -> None:
    silent = [_connect(server) for _ in range(20)]
    slow = [_connect(server) for _ in range(20)]
    for sock in slow:
        _send(sock, b"GET /graphql HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    closed: dict[int, float] = {}
    answers: list[int] = []
    everyone = silent + slow
    while len(closed) < len(everyone) and time.monotonic() - started < HEAD_TIMEOUT + 5:
        for index, sock in enumerate(everyone):
            if index in closed:
                continue
            if index >= len(silent):
                _send(sock, b"X")  # one byte of a header at a time, never the end of the head
            sock.settimeout(0.02)
            try:
                status, _headers, _body = _answer(sock)
                answers.append(status)
                closed[index] = time.monotonic() - started
            except TimeoutError:
                pass
            except (ConnectionError, OSError):
                closed[index] = time.monotonic() - started
        time.sleep(0.1)
    for sock in everyone:
        sock.close()
    assert len(closed) == len(everyone), f"{len(everyone) - len(closed)} connections still open"
    assert max(closed.values()) < HEAD_TIMEOUT + 3
    assert answers and set(answers) == {408}
    with _connect(server) as sock:  # the server is as good as new
        _send(sock, _request())
        assert _answer(sock)[0] == 200


def test_keep_alive_requests_each_get_their_own_limits(server: LiveServer) -> None:
    with _connect(server) as sock:
        for _ in range(3):
            _send(sock, _request(headers={"X-Pad": "a" * 15_000}))
            assert _answer(sock)[0] == 200
        _send(sock, _request(headers={"X-Pad": "a" * 17_000}))
        assert _answer(sock)[0] == 431
