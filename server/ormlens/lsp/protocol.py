"""The JSON-RPC side of the server: every request gets an answer.

pygls drops a request whose parameters do not deserialise (it logs and never answers, so the
client waits forever) and runs requests that arrive before `initialize`. Here a malformed request
gets InvalidParams (-32602) and an early one ServerNotInitialized (-32002), as the specification
asks; an early notification other than `exit` is dropped. Text documents are kept by the server
itself (lsp/documents.py), so pygls's own document model is not fed."""

from __future__ import annotations

import logging
from functools import partial
from dataclasses import dataclass
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

log = logging.getLogger("ormlens.lsp")

INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002


@dataclass
class RejectedRequest:
    """A request that cannot be run: answered with an error instead."""

    id: Any
    method: str
    code: int
    message: str
    jsonrpc: str = "2.0"


class _NoDeserialisationTracebacks(logging.Filter):
    """pygls logs a multi-screen traceback for each message that does not deserialise; the
    protocol below says it in one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unable to deserialize message")


logging.getLogger("pygls.protocol.json_rpc").addFilter(_NoDeserialisationTracebacks())


class OrmlensProtocol(LanguageServerProtocol):
    initialized = False  # set once `initialize` has been answered

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if isinstance(data, dict) and "id" in data and isinstance(data.get("method"), str):
                detail = str(error.__cause__ or error).splitlines()[0]
                return RejectedRequest(data["id"], data["method"], INVALID_PARAMS,
                                       f"invalid parameters for {data['method']}: {detail}")
            method = data.get("method") if isinstance(data, dict) else None
            log.warning("ignored a malformed %s: %s", f"notification {method}" if method else "message",
                        str(error.__cause__ or error).splitlines()[0])
            return None  # a notification has no one to answer: logged, dropped

    def handle_message(self, message) -> None:
        if message is None:
            return
        if isinstance(message, RejectedRequest):
            log.warning("%s", message.message)
            self._send_response(message.id, None, lsp.ResponseError(code=message.code, message=message.message))
            return
        method = getattr(message, "method", None)
        if not self.initialized and method not in (None, lsp.INITIALIZE, lsp.EXIT):
            if getattr(message, "id", None) is not None:
                self._send_response(message.id, None, lsp.ResponseError(
                    code=SERVER_NOT_INITIALIZED, message=f"{method} before initialize"))
            return  # a notification before initialize is dropped, as the specification says
        super().handle_message(message)

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None) -> None:
        # pygls 2.1 files the Future of every handler that is a generator, a coroutine or a thread
        # function in `_request_futures` (so that a request can be cancelled), and only a
        # request's answer takes its own out again. A notification's (its builtins for
        # didOpen/didChange/didClose, and ours below, are generators) and each step of a generator
        # handler (filed under a fresh uuid) stayed for good: a Future, its Condition and the uuid
        # per keystroke, about 1.5 MB per 1,000. Here they go once done.
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        answers_request = isinstance(callback, partial) and callback.func == self._send_handler_result
        future = self._request_futures.get(msg_id)
        if future is None or answers_request:
            return
        if future.done():
            self._request_futures.pop(msg_id, None)
        else:
            future.add_done_callback(lambda _: self._request_futures.pop(msg_id, None))

    def pending(self) -> int:
        """Handlers whose Future pygls still holds (requests being answered): for `ormlens.stats`."""
        return len(self._request_futures)

    # pygls's document model is not fed: the server keeps its own (lsp/documents.py).

    @lsp_method(lsp.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: lsp.DidOpenTextDocumentParams):
        if (handler := self.fm.features.get(lsp.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: lsp.DidChangeTextDocumentParams):
        if (handler := self.fm.features.get(lsp.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: lsp.DidCloseTextDocumentParams):
        if (handler := self.fm.features.get(lsp.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None
