"""The node's HTTP runner: aiohttp's AppRunner, whose connections answer a request that
aiohttp's parser refuses (a request line or a header over the limit, too many headers,
a request that is not HTTP) the project's way: the JSON error shape, a status that says
what was wrong (414 for the request line, 431 for headers, else 400) and the limit,
nothing of the request echoed, and one WARNING line in the log with any credential
in the request target redacted as the access log does (`app.redact`).

aiohttp makes that answer below the application: no middleware and no
`on_response_prepare` sees it. By default it is text/plain and quotes the first 100
bytes of the line at fault (`?customer_token=…`, `Authorization: Bearer …`), and the
connection logs it as an ERROR with a traceback that quotes them again. aiohttp
documents no hook for that answer (aio-libs/aiohttp#3287, open): the documented
`logger` argument of AppRunner could only reword the log, never the answer. The answer
is made by `RequestHandler.handle_error`, the one method aiohttp calls for every error
answer of a connection, so the runner makes its connections with a RequestHandler whose
`handle_error` answers what the parser refused and leaves every other failure to
aiohttp; the runner builds them through `BaseRunner._make_server`, the method a runner
subclass implements. Both are aiohttp's extension points rather than documented API:
an aiohttp that changes them fails tests/switchboard/test_parser_refusals.py.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    HttpProcessingError,
    InvalidHeader,
    LineTooLong,
)

from switchboard.http.app import redact
from switchboard.http.base import PARSER_REFUSED, error

log = logging.getLogger(__name__)

# What aiohttp's parsers (the C one and the pure-Python fallback) say on more headers
# than `max_headers`: a BadHttpMessage like any other, known only by its text.
TOO_MANY_HEADERS = "Too many headers received"
# The callbacks of aiohttp's C parser (llhttp) that raise LineTooLong, by what they read.
REQUEST_LINE_CALLBACKS = frozenset({"cb_on_url"})
HEADER_CALLBACKS = frozenset({"cb_on_header_field", "cb_on_header_value"})


@dataclass(frozen=True)
class Refusal:
    """The answer to a request the parser refused: status, error code, message (the
    client's and the log's), and the start of the request target (for the log only,
    redacted; '' when the request line was not at fault)."""

    status: int
    code: str
    message: str
    target: str = ""


def refusal_of(failure: HttpProcessingError, max_headers: int) -> Refusal:
    """What to answer a request the parser refused with `failure`: what was wrong and
    the limit, never what the request said."""
    if isinstance(failure, LineTooLong):
        return _too_long(failure)
    if failure.message == TOO_MANY_HEADERS:
        message = f"the request has more headers than the limit of {max_headers}"
        return Refusal(431, "header_fields_too_large", message)
    if isinstance(failure, BadHttpMethod | BadStatusLine):
        return Refusal(400, "bad_request", "the request line is not valid HTTP/1.1")
    if isinstance(failure, InvalidHeader):
        return Refusal(400, "bad_request", "a header is not valid HTTP/1.1")
    return Refusal(400, "bad_request", "the request is not valid HTTP/1.1")


def _too_long(failure: LineTooLong) -> Refusal:
    """A request line (414) or a header (431) over the parser's limit. LineTooLong does
    not say which: the C parser raises it from the callback of the part it was reading,
    which its traceback names; the pure-Python parser is not told apart (400)."""
    line, limit = failure.args[0], failure.args[1]
    read = {frame.name.rpartition(".")[2] for frame in traceback.extract_tb(failure.__traceback__)}
    if read & REQUEST_LINE_CALLBACKS:
        message = f"the request line is longer than the limit of {limit} bytes"
        return Refusal(414, "uri_too_long", message, _start_of(line))
    if read & HEADER_CALLBACKS:
        message = f"a header is longer than the limit of {limit} bytes"
        return Refusal(431, "header_fields_too_large", message)
    message = f"a line of the request (its request line or a header) is over {limit} bytes"
    return Refusal(400, "bad_request", message)


def _start_of(line: object) -> str:
    """The start of a request target as the C parser quotes it (its first 100 bytes and
    `...`), credentials redacted: `/a?customer_token=[redacted]&pad=aaa…`."""
    if not isinstance(line, bytes | bytearray):
        return ""
    text = bytes(line).removesuffix(b"...").decode("utf-8", "backslashreplace")
    return f"{redact(text)}…"


class RefusingProtocol(web.RequestHandler):
    """A connection that answers what the parser refused as `refusal_of` says (see the
    module's docstring for why here), and anything else as aiohttp does."""

    __slots__ = ()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError) or request.writer.output_size > 0:
            return super().handle_error(request, status, exc, message)
        refusal = refusal_of(exc, self.max_headers)
        request[PARSER_REFUSED] = True  # this line is its record: no access-log line
        target = f"; it began {refusal.target}" if refusal.target else ""
        log.warning(
            "%s: refused before routing (%d): %s%s",
            request.remote,
            refusal.status,
            refusal.message,
            target,
        )
        answer = error(refusal.status, refusal.code, refusal.message)
        answer.force_close()
        return answer


class RefusingServer(web.Server):
    """aiohttp's server (the connections' factory) making RefusingProtocol connections."""

    def __call__(self) -> web.RequestHandler:
        return RefusingProtocol(self, loop=self._loop, **self._kwargs)


class NodeRunner(web.AppRunner):
    """AppRunner whose server is a RefusingServer with the same handler and arguments
    (AppRunner's own `_make_server` starts the app and builds aiohttp's server)."""

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return RefusingServer(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            **made._kwargs,
        )
