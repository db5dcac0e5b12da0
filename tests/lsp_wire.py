"""A raw JSON-RPC client for `ormlens server` over stdio, and a reference model of LSP text sync.

`Wire` speaks the base protocol itself (Content-Length framing, asyncio subprocess) so a test can
send anything, malformed parameters included, and see every message the server sends: responses,
each `publishDiagnostics` in arrival order (with the arrival time), log messages, stderr.
Requests from the server to the client (registerCapability, refresh, ...) are answered with null.

`TextModel` is the LSP specification's text synchronisation, written from the specification and
nothing else: lines end only at `\\n`, `\\r\\n`, `\\r`; positions count UTF-16 code units unless
utf-8 or utf-32 was negotiated; a character past a line's length means the end of that line (before
its line break); a line past the last means the end of the document.
Used by tests/test_lsp_fuzz.py and benchmarks/soak.py."""

from __future__ import annotations

import asyncio
import bisect
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

SERVER = [sys.executable, "-m", "ormlens", "server"]
DEADLINE = 10.0  # seconds within which every request must be answered

# JSON-RPC / LSP error codes
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002
REQUEST_CANCELLED = -32800
CONTENT_MODIFIED = -32801


# --- URIs -----------------------------------------------------------------------------------------

def file_uri(path: Path | str) -> str:
    """A file: URI percent-encoded as VS Code sends it (space -> %20, é -> %C3%A9)."""
    return "file://" + quote(Path(path).as_posix(), safe="/")


def uri_path(uri: str) -> str:
    return unquote(urlparse(uri).path)


# --- the reference model of text synchronisation ---------------------------------------------------

BREAK = re.compile(r"\r\n|\r|\n")


def lsp_lines(text: str) -> list[str]:
    """The document's lines as the LSP specification counts them (without their breaks)."""
    return BREAK.split(text)


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def unit_width(char: str, encoding: str) -> int:
    return units(char, encoding)


def chars_for_units(line: str, count: int, encoding: str) -> int:
    """How many characters of `line` make `count` units; past the line's end: its length plus the
    overflow (so a server's out-of-range position stays visible in a comparison)."""
    total = 0
    for index, char in enumerate(line):
        if total >= count:
            return index
        total += unit_width(char, encoding)
    return len(line) + max(count - total, 0)


class TextModel:
    """One document's text, edited as the LSP specification says."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.encoding = encoding
        self.text = text
        self._starts: list[int] | None = None

    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text = value
        self._starts = None

    @property
    def starts(self) -> list[int]:
        """Offsets where each line starts."""
        if self._starts is None:
            self._starts = [0] + [m.end() for m in BREAK.finditer(self._text)]
        return self._starts

    def line_count(self) -> int:
        return len(self.starts)

    def content_end(self, line: int) -> int:
        """Offset of the end of `line`'s content (before its line break)."""
        starts = self.starts
        if line + 1 >= len(starts):
            return len(self._text)
        following = starts[line + 1]
        return following - 2 if self._text[following - 2:following] == "\r\n" else following - 1

    def line(self, line: int) -> str:
        return self._text[self.starts[line]:self.content_end(line)]

    def offset(self, line: int, character: int) -> int:
        """A position -> an offset in characters (code points)."""
        if line >= self.line_count():
            return len(self._text)
        start, end = self.starts[line], self.content_end(line)
        count = 0
        for index in range(start, end):
            if count >= character:
                return index
            count += unit_width(self._text[index], self.encoding)
        return end

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, units(self._text[self.starts[line]:offset], self.encoding)

    def apply(self, change: dict) -> None:
        """One `TextDocumentContentChangeEvent` (with a range, or the whole text)."""
        if "range" not in change:
            self.text = change["text"]
            return
        start, end = change["range"]["start"], change["range"]["end"]
        begin = self.offset(start["line"], start["character"])
        stop = self.offset(end["line"], end["character"])
        assert begin <= stop, f"reversed range {change['range']}"
        self.text = self._text[:begin] + change["text"] + self._text[stop:]

    def splits_crlf(self, offset: int) -> bool:
        """Is `offset` between the \\r and \\n of one line break (no position can name it)?"""
        return 0 < offset < len(self._text) and self._text[offset - 1] == "\r" and self._text[offset] == "\n"


def lsp_range(start: tuple[int, int], end: tuple[int, int]) -> dict:
    return {"start": {"line": start[0], "character": start[1]}, "end": {"line": end[0], "character": end[1]}}


# --- the client ---------------------------------------------------------------------------------

@dataclass
class Publish:
    at: float  # time.monotonic() of arrival
    uri: str
    version: int | None
    diagnostics: list[dict]


@dataclass
class Wire:
    process: asyncio.subprocess.Process
    publishes: list[Publish] = field(default_factory=list)
    notifications: list[dict] = field(default_factory=list)
    server_requests: list[dict] = field(default_factory=list)
    stderr: bytearray = field(default_factory=bytearray)
    pending: dict = field(default_factory=dict)
    next_id: int = 0
    closed: bool = False
    unexpected: list[str] = field(default_factory=list)  # framing errors, unknown response ids
    log: list[dict] | None = None  # when a list: every message sent, to replay a failure

    @classmethod
    async def start(cls, command: list[str] | None = None, cwd: Path | str | None = None,
                    env: dict | None = None) -> "Wire":
        process = await asyncio.create_subprocess_exec(
            *(command or SERVER), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, cwd=cwd, env={**os.environ, **(env or {})},
            limit=2 ** 26)
        wire = cls(process)
        wire._reader = asyncio.ensure_future(wire._read())
        wire._stderr_reader = asyncio.ensure_future(wire._read_stderr())
        return wire

    @property
    def pid(self) -> int:
        return self.process.pid

    # sending

    def send(self, message: dict) -> None:
        if self.log is not None:
            self.log.append({**message, "_sent": time.monotonic()})
        body = json.dumps({"jsonrpc": "2.0", **message}, ensure_ascii=False).encode("utf-8")
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send_raw(self, data: bytes) -> None:
        if self.process.stdin.is_closing():
            raise ConnectionError(f"the server's stdin is closed\n{self.stderr_tail()}")
        self.process.stdin.write(data)

    async def drain(self) -> None:
        await self.process.stdin.drain()

    def notify(self, method: str, params: object = None) -> None:
        message = {"method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def request_nowait(self, method: str, params: object = None) -> asyncio.Future:
        """Send a request; the future gets the whole response message (`result` or `error`)."""
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        # A request nobody waits for any more may fail when the server exits: no asyncio warning.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self.pending[self.next_id] = future
        message = {"id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return future

    async def request(self, method: str, params: object = None, deadline: float = DEADLINE) -> dict:
        """Send a request and wait for its response; AssertionError when none comes in `deadline`."""
        future = self.request_nowait(method, params)
        return await self.answer(future, f"{method} {json.dumps(params, ensure_ascii=False)[:300]}", deadline)

    async def answer(self, future: asyncio.Future, what: str, deadline: float = DEADLINE) -> dict:
        try:
            return await asyncio.wait_for(asyncio.shield(future), deadline)
        except asyncio.TimeoutError:
            raise AssertionError(f"no answer within {deadline} s to {what}\n{self.stderr_tail()}") from None

    # receiving

    async def _read(self) -> None:
        stdout = self.process.stdout
        try:
            while True:
                length = None
                while True:
                    line = await stdout.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length is None:
                    self.unexpected.append("a message without Content-Length")
                    continue
                body = await stdout.readexactly(length)
                self._dispatch(json.loads(body))
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.closed = True
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"the server exited\n{self.stderr_tail()}"))

    def _dispatch(self, message: dict) -> None:
        if "method" not in message:  # a response
            message["_received"] = time.monotonic()
            future = self.pending.pop(message.get("id"), None)
            if future is None:
                self.unexpected.append(f"a response to no request: {message}")
            elif not future.done():
                future.set_result(message)
            return
        if "id" in message:  # a request from the server: answer it (null is fine for all we get)
            self.server_requests.append(message)
            self.send({"id": message["id"], "result": None})
            return
        self.notifications.append(message)
        if message["method"] == "textDocument/publishDiagnostics":
            params = message["params"]
            self.publishes.append(Publish(time.monotonic(), params["uri"], params.get("version"),
                                          params["diagnostics"]))

    async def _read_stderr(self) -> None:
        while True:
            chunk = await self.process.stderr.read(65536)
            if not chunk:
                return
            self.stderr += chunk
            if len(self.stderr) > 2_000_000:
                del self.stderr[:1_000_000]

    def stderr_tail(self, size: int = 4000) -> str:
        text = self.stderr.decode("utf-8", "replace")
        return f"--- server stderr (last {size} chars) ---\n{text[-size:]}" if text else "(server stderr empty)"

    # publishes

    def latest(self, uri: str) -> Publish | None:
        for publish in reversed(self.publishes):
            if publish.uri == uri:
                return publish
        return None

    async def wait_for(self, condition, deadline: float = DEADLINE, poll: float = 0.01) -> bool:
        """Wait until `condition()` is true; False after `deadline` seconds."""
        end = time.monotonic() + deadline
        while not condition():
            if time.monotonic() > end or self.closed:
                return bool(condition())
            await asyncio.sleep(poll)
        return True

    # the session

    async def initialize(self, root: Path | None, *, encodings: list[str] | None = None, pull: bool = False,
                         options: dict | None = None) -> dict:
        response = await self.request("initialize", initialize_params(root, encodings=encodings, pull=pull,
                                                                      options=options))
        assert "result" in response, f"initialize failed: {response}\n{self.stderr_tail()}"
        self.notify("initialized", {})
        return response["result"]

    async def close(self) -> int | None:
        """shutdown + exit; kill the process if it does not end."""
        if not self.closed and self.process.returncode is None:
            try:
                future = self.request_nowait("shutdown")
                await asyncio.wait_for(future, 5)
                self.notify("exit")
                await self.drain()
            except (asyncio.TimeoutError, ConnectionError, Exception):  # noqa: BLE001 - closing anyway
                pass
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()
        for task in (self._reader, self._stderr_reader):
            try:
                await asyncio.wait_for(task, 2)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001
                task.cancel()
        return self.process.returncode


def initialize_params(root: Path | None, *, encodings: list[str] | None = None, pull: bool = False,
                      options: dict | None = None) -> dict:
    """What VS Code sends, in short."""
    text_document = {
        "synchronization": {"dynamicRegistration": True, "didSave": True, "willSave": True},
        "publishDiagnostics": {"relatedInformation": True, "versionSupport": True,
                               "codeDescriptionSupport": True, "dataSupport": True},
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "codeAction": {"dynamicRegistration": True, "isPreferredSupport": True, "dataSupport": True,
                       "resolveSupport": {"properties": ["edit"]},
                       "codeActionLiteralSupport": {"codeActionKind": {"valueSet": [
                           "", "quickfix", "refactor", "source", "source.organizeImports", "source.fixAll"]}}},
    }
    if pull:
        text_document["diagnostic"] = {"dynamicRegistration": True, "relatedDocumentSupport": True}
    capabilities = {
        "general": {"positionEncodings": encodings or ["utf-16"]},
        "textDocument": text_document,
        "workspace": {"workspaceEdit": {"documentChanges": True}, "workspaceFolders": True,
                      "configuration": True, "didChangeWatchedFiles": {"dynamicRegistration": True},
                      "diagnostics": {"refreshSupport": True}},
        "window": {"workDoneProgress": True},
    }
    params = {"processId": os.getpid(), "capabilities": capabilities, "clientInfo": {"name": "lsp_wire"}}
    if root is not None:
        params["rootUri"] = file_uri(root)
        params["workspaceFolders"] = [{"uri": file_uri(root), "name": Path(root).name}]
    if options is not None:
        params["initializationOptions"] = options
    return params


def rss_kb(pid: int) -> int | None:
    """VmRSS of a process, in kB (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
