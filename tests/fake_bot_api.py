"""A small fake Telegram Bot API server on 127.0.0.1, for driving the real python-telegram-bot stack offline.

Runs the standard library's ThreadingHTTPServer in a thread. It answers getMe, deleteWebhook, setWebhook,
getUpdates (long polling over a queue the test fills), sendMessage, editMessageText, answerCallbackQuery
and setMyCommands, records every call, checks message HTML the way Telegram does (only its tags, every
`<` and `&` escaped, 4096 characters after parsing), and can fail the next N calls of a method with a 429
(with retry_after), a 500 or a 403. Tests point `telegram.base_url` at `api.base_url`.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT_ID = 7000001
BOT_USERNAME = "medcareer_test_bot"
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                "span", "blockquote", "tg-emoji"}  # fmt: skip
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


@dataclass
class Call:
    """One request the bot made: the method, its decoded parameters and the token it used."""

    method: str
    params: dict[str, Any]
    token: str

    def json(self, name: str) -> Any:
        """A parameter python-telegram-bot sent JSON-encoded (reply_markup, commands…)."""
        value = self.params.get(name)
        return json.loads(value) if isinstance(value, str) else value

    @property
    def text(self) -> str:
        """What the user sees: the message text with the HTML parsed away."""
        return _plain(str(self.params.get("text", "")))

    @property
    def buttons(self) -> list[str]:
        """The callback data of every inline button, row by row."""
        markup = self.json("reply_markup") or {}
        return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class _Failure:
    status: int
    count: int
    retry_after: int = 1


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, _Failure] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    next_update_id: int = 1
    next_message_id: int = 100
    closed: bool = False


class FakeBotApi:
    """The fake server. Use as a context manager or call start() and stop()."""

    def __init__(self) -> None:
        self._state = _State()
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-bot-api", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> FakeBotApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._state.closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what the test controls -------------------------------------------------------------------

    def push_update(self, body: dict[str, Any]) -> int:
        """Queue an update (without update_id) for getUpdates; returns its update_id."""
        with self._cond:
            update_id = self._state.next_update_id
            self._state.next_update_id += 1
            self._state.updates.append({"update_id": update_id, **body})
            self._cond.notify_all()
            return update_id

    def fail_next(self, method: str, count: int = 1, *, status: int = 500, retry_after: int = 1) -> None:
        """Answer the next `count` calls of `method` with an error status (429 carries retry_after)."""
        with self._cond:
            self._state.failures[method] = _Failure(status, count, retry_after)

    def delay(self, method: str, seconds: float) -> None:
        """Hold every answer to `method` for `seconds` (to catch the bot with a request in flight)."""
        with self._cond:
            self._state.delays[method] = seconds

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._state.calls if method is None or c.method == method]

    def wait_for(self, method: str, count: int = 1, *, timeout: float = 10.0) -> list[Call]:
        """Block until `method` has been called `count` times in all; return those calls."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self._state.calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self._state.calls]
                    raise AssertionError(f"{method} called {len(found)} of {count} times; calls: {seen}")
                self._cond.wait(left)

    def pending_updates(self) -> int:
        with self._cond:
            return len(self._state.updates)

    # --- the API ----------------------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
        with self._cond:
            self._state.calls.append(Call(method, params, token))
            self._cond.notify_all()
            failure = self._take_failure(method)
            delay = self._state.delays.get(method, 0.0)
        if delay:
            time.sleep(delay)
        if failure is not None:
            return failure
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        answer = getattr(self, f"_api_{method}", None)
        result = answer(params) if answer else True
        if isinstance(result, tuple):
            return result
        return 200, {"ok": True, "result": result}

    def _take_failure(self, method: str) -> tuple[int, dict[str, Any]] | None:
        failure = self._state.failures.get(method)
        if failure is None or failure.count <= 0:
            return None
        failure.count -= 1
        if failure.status == 429:
            body = {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after "
                    f"{failure.retry_after}", "parameters": {"retry_after": failure.retry_after}}  # fmt: skip
        elif failure.status == 403:
            body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        elif failure.status == 401:
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
        elif failure.status == 400:
            body = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
        else:
            body = {"ok": False, "error_code": failure.status, "description": "Internal Server Error"}
        return failure.status, body

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 5.0)
        deadline = time.monotonic() + timeout
        with self._cond:
            self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
            while not self._state.updates and not self._state.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self._state.updates)

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return bot_user()

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any] | tuple[int, dict[str, Any]]:
        problem = check_html(str(params.get("text", ""))) if params.get("parse_mode") == "HTML" else None
        if problem:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {problem}"}
        with self._cond:
            self._state.next_message_id += 1
            message_id = self._state.next_message_id
        return _message(message_id, int(params["chat_id"]), str(params.get("text", "")))

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return _message(int(params.get("message_id", 1)), int(params.get("chat_id", 1)), str(params["text"]))


def bot_user() -> dict[str, Any]:
    return {
        "id": BOT_ID,
        "is_bot": True,
        "first_name": "MedCareer",
        "username": BOT_USERNAME,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def _message(message_id: int, chat_id: int, text: str) -> dict[str, Any]:
    chat_type = "private" if chat_id > 0 else "group"
    return {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat_id, "type": chat_type},
            "from": bot_user(), "text": _plain(text)}  # fmt: skip


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problem = self.problem or f'can\'t parse entities: unsupported start tag "{tag}"'
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problem = self.problem or f'can\'t parse entities: unexpected end tag "{tag}"'


def check_html(text: str) -> str | None:
    """Telegram's complaint about a message's HTML, or None when it would be accepted."""
    for index, char in enumerate(text):
        if char == "&" and not ENTITY.match(text, index):
            return "can't parse entities: unsupported entity or stray '&'"
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    if checker.problem or checker.open:
        return checker.problem or f'can\'t parse entities: unclosed tag "{checker.open[-1]}"'
    if len(_plain(text)) > 4096:
        return "message is too long"
    if "<" in re.sub(r"</?[a-z-]+(?:\s[^>]*)?>", "", text):
        return "can't parse entities: stray '<'"
    return None


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"</?[a-z-]+(?:\s[^>]*)?>", "", text))


def _handler_for(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two sends; with Nagle's algorithm on, the body of each keep-alive
        # response would wait for the client's delayed ACK (~40 ms). Telegram's servers add no such wait.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self._answer()

        def do_GET(self) -> None:
            self._answer()

        def _answer(self) -> None:
            path = urlsplit(self.path)
            match = re.fullmatch(r"/bot([^/]+)/(\w+)", path.path)
            if match is None:
                self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            params = _decode(self.headers.get("Content-Type", ""), self._body(), path.query)
            self._send(*api.handle(match.group(2), params, match.group(1)))

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            try:
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the bot gave up on a long poll while stopping

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _decode(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    """Parameters from a JSON body, a form-encoded body or the query string."""
    if content_type.startswith("application/json") and body:
        data = json.loads(body)
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    text = body.decode() if body else query
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
