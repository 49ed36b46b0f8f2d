"""Helpers shared by the tests."""

import io
import json

import requests


def parse_sse(body: str) -> list[tuple[str, dict]]:
    """Split a text/event-stream body into (event, data) pairs."""
    events = []
    for block in body.strip().split("\n\n"):
        event, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                event = line[len("event:"):].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:"):].strip())
        events.append((event, json.loads("\n".join(data))))
    return events


def upstream_response(status: int = 200, body: bytes | str | dict = b"") -> requests.Response:
    """A real requests.Response carrying a canned body."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    response = requests.Response()
    response.status_code = status
    response.headers["Content-Type"] = "application/json"
    response.raw = io.BytesIO(body)
    response.url = "http://llm.test/v1/chat/completions"
    return response


def completion(content) -> dict:
    """An OpenAI-style chat completion body."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
    }


def stream_body(*fragments: str, done: bool = True) -> bytes:
    """An OpenAI-style SSE body streaming the given fragments."""
    lines = [": keep-alive", ""]
    for fragment in fragments:
        chunk = {"choices": [{"index": 0, "delta": {"content": fragment}}]}
        lines += [f"data: {json.dumps(chunk)}", ""]
    if done:
        lines += ["data: [DONE]", ""]
    return "\n".join(lines).encode("utf-8")


class FakeUpstream:
    """Stands in for requests.post; records calls and replays an outcome."""

    def __init__(self):
        self.calls: list[dict] = []
        self.outcome = None

    def __call__(self, url, **kwargs):
        self.calls.append({"url": url, **kwargs})
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome() if callable(self.outcome) else self.outcome
