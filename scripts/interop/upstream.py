"""A scripted model server for the interop suite: the upstream LiteLLM's proxy forwards to.

Python standard library only. It speaks OpenAI's Chat Completions (`POST /v1/chat/completions`)
and Anthropic's Messages (`POST /v1/messages`), each plain and streamed (SSE), and answers by
a script, not a model:

- a request with no tools gets the text `PLAIN_ANSWER`;
- a request with tools whose conversation does not end with a tool result gets a call to the
  first tool, with a string argument `ARGUMENT` for each required property of its schema;
- a request whose conversation ends with a tool result gets `The tool said: <that result>`.

So a pause -> external result -> continue cycle through the proxy shows whether the tool's name,
its arguments and its result survived both translations. Every request is appended to a JSON
lines log (path, body) for the report. Bound to 127.0.0.1; stops on SIGTERM.

Usage: python upstream.py PORT LOG_PATH
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PLAIN_ANSWER = "pong from the scripted upstream"
ARGUMENT = "A-17"
LOG_LOCK = threading.Lock()


def words(text):
    """The text in several pieces, so a streamed answer has several deltas."""
    parts = text.split(" ")
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


def text_of(content):
    """The text of a message or tool-result content: a string or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
    return "" if content is None else str(content)


def arguments_for(schema):
    """Arguments for a tool: ARGUMENT for every required property."""
    schema = schema or {}
    return {name: ARGUMENT for name in schema.get("required", [])}


def decide(tools, tool_result):
    """('text', answer) or ('call', name, arguments) for a request."""
    if tool_result is not None:
        return ("text", "The tool said: " + tool_result)
    if tools:
        name, schema = tools[0]
        return ("call", name, arguments_for(schema))
    return ("text", PLAIN_ANSWER)


# --- Chat Completions -----------------------------------------------------------------------


def chat_decision(body):
    tools = [
        (t["function"]["name"], t["function"].get("parameters"))
        for t in body.get("tools") or []
        if t.get("type") == "function"
    ]
    messages = body.get("messages") or []
    result = None
    if messages and messages[-1].get("role") == "tool":
        result = text_of(messages[-1].get("content"))
    return decide(tools, result)


def chat_usage():
    return {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28}


def chat_plain(body):
    d = chat_decision(body)
    if d[0] == "text":
        message = {"role": "assistant", "content": d[1]}
        finish = "stop"
    else:
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_interop_1",
                    "type": "function",
                    "function": {"name": d[1], "arguments": json.dumps(d[2])},
                }
            ],
        }
        finish = "tool_calls"
    return {
        "id": "chatcmpl-interop",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": chat_usage(),
    }


def chat_stream(body):
    d = chat_decision(body)
    base = {
        "id": "chatcmpl-interop",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
    }

    def chunk(delta, finish=None):
        return dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish}])

    yield chunk({"role": "assistant", "content": ""})
    if d[0] == "text":
        for piece in words(d[1]):
            yield chunk({"content": piece})
        yield chunk({}, "stop")
    else:
        args = json.dumps(d[2])
        half = len(args) // 2
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_interop_1",
                        "type": "function",
                        "function": {"name": d[1], "arguments": args[:half]},
                    }
                ]
            }
        )
        yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[half:]}}]})
        yield chunk({}, "tool_calls")
    if (body.get("stream_options") or {}).get("include_usage"):
        yield dict(base, choices=[], usage=chat_usage())


# --- Anthropic Messages ---------------------------------------------------------------------


def messages_decision(body):
    tools = [(t["name"], t.get("input_schema")) for t in body.get("tools") or [] if "name" in t]
    messages = body.get("messages") or []
    result = None
    if messages and messages[-1].get("role") == "user":
        content = messages[-1].get("content")
        if isinstance(content, list):
            results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
            if results:
                result = text_of(results[-1].get("content"))
    return decide(tools, result)


def messages_plain(body):
    d = messages_decision(body)
    if d[0] == "text":
        content = [{"type": "text", "text": d[1]}]
        stop = "end_turn"
    else:
        content = [{"type": "tool_use", "id": "toolu_interop_1", "name": d[1], "input": d[2]}]
        stop = "tool_use"
    return {
        "id": "msg_interop",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "scripted"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 21, "output_tokens": 7},
    }


def messages_stream(body):
    d = messages_decision(body)
    model = body.get("model", "scripted")
    yield "message_start", {
        "type": "message_start",
        "message": {
            "id": "msg_interop",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 21, "output_tokens": 1},
        },
    }
    if d[0] == "text":
        yield "content_block_start", {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        }
        for piece in words(d[1]):
            yield "content_block_delta", {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            }
        stop = "end_turn"
    else:
        yield "content_block_start", {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "toolu_interop_1", "name": d[1], "input": {}},
        }
        args = json.dumps(d[2])
        half = len(args) // 2
        for piece in (args[:half], args[half:]):
            yield "content_block_delta", {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": piece},
            }
        stop = "tool_use"
    yield "content_block_stop", {"type": "content_block_stop", "index": 0}
    yield "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": None},
        "usage": {"output_tokens": 7},
    }
    yield "message_stop", {"type": "message_stop"}


# --- The server -----------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_path = None

    def log_message(self, fmt, *args):  # quiet: the log file says what came in
        pass

    def do_GET(self):
        if self.path.rstrip("/") in ("/health", "/v1/models"):
            self.send_json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
        else:
            self.send_json(404, {"error": {"message": "not found: " + self.path}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self.send_json(400, {"error": {"message": "the body is not JSON"}})
            return
        route = self.path.split("?")[0].rstrip("/")
        with LOG_LOCK, open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"path": route, "body": body}) + "\n")
        stream = bool(body.get("stream"))
        if route.endswith("/chat/completions"):
            if stream:
                self.send_sse((None, c) for c in chat_stream(body))
            else:
                self.send_json(200, chat_plain(body))
        elif route.endswith("/messages"):
            if stream:
                self.send_sse(messages_stream(body))
            else:
                self.send_json(200, messages_plain(body))
        else:
            self.send_json(404, {"error": {"message": "the scripted upstream has no " + route}})

    def send_json(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_sse(self, events):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for name, data in events:
            frame = ("event: %s\n" % name if name else "") + "data: %s\n\n" % json.dumps(data)
            self.wfile.write(frame.encode())
            self.wfile.flush()
        if not self.path.rstrip("/").endswith("/messages"):
            self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


def main():
    port, log_path = int(sys.argv[1]), sys.argv[2]
    Handler.log_path = log_path
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("upstream listening on 127.0.0.1:%d" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
