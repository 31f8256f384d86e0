"""The ceiling of our HTTP stack: a minimal ASGI app served exactly as `python -m app serve` serves ours.

The same gunicorn options and uvicorn worker (uvloop, httptools with our head limits, the
default logging configuration), an app that reads the request body and answers every request
with `{"data":{"__typename":"Query"}}`: what `{ __typename }` would cost with nothing of ours
in between. `bench --compare postgraphile` serves it beside the others:

    python -m app.tools.bare_asgi --port 8001 --workers 2
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from app.config import get_settings
from app.http import serving
from app.logs import configure_logging

ANSWER = b'{"data":{"__typename":"Query"}}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(ANSWER)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every HTTP request with the same JSON, after reading its body; accept the lifespan."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": ANSWER})


class BareServer(serving.Server):
    """gunicorn with our options, serving the minimal app instead of ours."""

    def load(self) -> Any:
        return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.tools.bare_asgi", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    BareServer(serving.gunicorn_options(settings, host=args.host, port=args.port, workers=args.workers)).run()


if __name__ == "__main__":
    main()
