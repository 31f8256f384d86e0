"""Response compression: brotli or gzip for answers above a threshold, ETags kept right.

A compressed answer is another representation of the same resource, so its strong ETag gets the
coding as a suffix (`"v3-…-br"`), as Apache does; `app.http.etags` strips the suffix (and `W/`)
when it compares `If-None-Match`, so a cache holding either representation is answered 304.
`Vary: Accept-Encoding` goes on every answer whose type we compress, small ones too. The
compressed bytes of an answer with an ETag are kept (LRU, by ETag and coding): a cached GET is
compressed once, not per request.
"""

from __future__ import annotations

import gzip
from functools import lru_cache

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.lru import LRU

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is a dependency; without it, gzip only
    brotli = None

COMPRESSIBLE = ("application/json", "application/graphql-response+json", "application/graphql", "text/")
COMPRESSIBLE_BYTES = tuple(prefix.encode() for prefix in COMPRESSIBLE)


def _quality(value: str) -> float:
    for param in value.split(";")[1:]:
        name, _, number = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(number)
            except ValueError:
                return 0.0
    return 1.0


@lru_cache(maxsize=64)
def choose_coding(accept_encoding: str) -> str | None:
    """`br` or `gzip` as the client accepts them (br preferred at equal quality), or None."""
    qualities: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name = item.split(";")[0].strip().lower()
        if name:
            qualities[name] = _quality(item)
    star = qualities.get("*", 0.0)
    candidates = [("br", qualities.get("br", star)), ("gzip", qualities.get("gzip", star))]
    if brotli is None:
        candidates = candidates[1:]
    best = max(candidates, key=lambda pair: pair[1])
    return best[0] if best[1] > 0 else None


def compress(body: bytes, coding: str) -> bytes:
    if coding == "br":
        assert brotli is not None
        return bytes(brotli.compress(body, quality=5))
    return gzip.compress(body, compresslevel=6, mtime=0)


class Compressor:
    """Compresses answers of `COMPRESSIBLE` types of `min_bytes` or more; keeps the bytes of tagged ones."""

    def __init__(self, min_bytes: int) -> None:
        self.min_bytes = min_bytes
        self.kept = LRU(512, 16_000_000)

    def coding(self, accept_encoding: str, content_type: str, size: int) -> str | None:
        """The coding to send an answer in, or None (too small, not compressible, not accepted)."""
        if self.min_bytes <= 0 or size < self.min_bytes or not accept_encoding:
            return None
        if not content_type.startswith(COMPRESSIBLE):
            return None
        return choose_coding(accept_encoding)

    def compress(
        self, body: bytes, headers: list[tuple[bytes, bytes]], coding: str
    ) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        """The compressed body and its headers: Content-Encoding, and the ETag suffixed with the coding."""
        tag = next((value.decode("latin-1") for name, value in headers if name == b"etag"), None)
        compressed = self.kept.get((tag, coding)) if tag else None
        if compressed is None:
            compressed = compress(body, coding)
            if tag:
                self.kept.put((tag, coding), compressed, len(compressed))
        out = [(name, value) for name, value in headers if name not in (b"etag", b"content-length")]
        out.append((b"content-encoding", coding.encode()))
        if tag:
            out.append((b"etag", (f'{tag[:-1]}-{coding}"' if tag.endswith('"') else tag).encode("latin-1")))
        return compressed, out


class Compression:
    """ASGI middleware for the routes besides /graphql (which compresses in its own pipeline): compresses
    single-message answers of `COMPRESSIBLE` types of `min_bytes` or more."""

    def __init__(self, app: ASGIApp, *, min_bytes: int) -> None:
        self.app = app
        self.compressor = Compressor(min_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.compressor.min_bytes <= 0:
            await self.app(scope, receive, send)
            return
        accept_encoding = ""
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
                break
        start: Message | None = None

        async def compressing_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                # One pass over the raw headers (no Headers objects: this runs for every answer).
                content_type, encoded, vary = b"", False, b""
                for name, value in message.get("headers", ()):
                    if name == b"content-type":
                        content_type = value
                    elif name == b"content-encoding":
                        encoded = True
                    elif name == b"vary":
                        vary = value
                if encoded or not content_type.startswith(COMPRESSIBLE_BYTES):
                    await send(message)
                    return
                if b"accept-encoding" not in vary.lower():
                    MutableHeaders(scope=message).add_vary_header("Accept-Encoding")
                start = message  # held until the body shows whether it is worth compressing
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            held, start = start, None
            body: bytes = message.get("body", b"")
            held_type = next((v.decode("latin-1") for n, v in held["headers"] if n == b"content-type"), "")
            coding = self.compressor.coding(accept_encoding, held_type, len(body))
            if coding is None or message.get("more_body", False):
                await send(held)
                await send(message)
                return
            compressed, headers = self.compressor.compress(body, list(held["headers"]), coding)
            headers.append((b"content-length", str(len(compressed)).encode()))
            await send({**held, "headers": headers})
            await send({"type": "http.response.body", "body": compressed, "more_body": False})

        await self.app(scope, receive, compressing_send)
