"""Client for an OpenAI-compatible chat completions API, with a local fallback."""

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import requests
from flask import current_app

from .errors import LLMUnavailable, UpstreamError, UpstreamTimeout

ChatMessages = list[dict[str, str]]


@dataclass(frozen=True)
class UpstreamSettings:
    url: str
    model: str
    api_key: str | None
    timeout: float


def _upstream_settings() -> UpstreamSettings | None:
    """Read the LLM settings; None selects the local responder."""
    config = current_app.config
    if not config.get("LLM_ENABLED", True):
        raise LLMUnavailable("the language model is disabled")

    base_url = config.get("LLM_BASE_URL")
    if not base_url:
        return None

    model = config.get("LLM_MODEL")
    timeout = config.get("LLM_TIMEOUT")
    problem = None
    if not str(base_url).startswith(("http://", "https://")):
        problem = "LLM_BASE_URL must be an http(s) URL"
    elif not model:
        problem = "LLM_MODEL must be set when LLM_BASE_URL is set"
    elif not isinstance(timeout, (int, float)) or timeout <= 0:
        problem = "LLM_TIMEOUT must be a positive number"
    if problem:
        current_app.logger.error("LLM misconfigured: %s", problem)
        raise LLMUnavailable("the language model is not configured correctly")

    return UpstreamSettings(
        url=str(base_url).rstrip("/") + "/chat/completions",
        model=model,
        api_key=config.get("LLM_API_KEY"),
        timeout=float(timeout),
    )


def _post(settings: UpstreamSettings, messages: ChatMessages, stream: bool) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    payload = {"model": settings.model, "messages": messages}
    if stream:
        payload["stream"] = True

    try:
        response = requests.post(
            settings.url, json=payload, headers=headers,
            timeout=settings.timeout, stream=stream,
        )
    except requests.Timeout as exc:
        raise UpstreamTimeout() from exc
    except requests.RequestException as exc:
        current_app.logger.warning("LLM request failed: %s", exc)
        raise UpstreamError("could not reach the language model") from exc

    if not response.ok:
        current_app.logger.warning(
            "LLM answered HTTP %s: %.200s", response.status_code, response.text
        )
        response.close()
        raise UpstreamError(f"the language model answered with HTTP {response.status_code}")
    return response


def complete(messages: ChatMessages) -> str:
    """Return the assistant's reply to a chat history."""
    settings = _upstream_settings()
    if settings is None:
        _simulate_latency()
        return local_reply(messages)

    response = _post(settings, messages, stream=False)
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise UpstreamError() from exc
    if not isinstance(content, str):
        raise UpstreamError()
    return content


def stream(messages: ChatMessages) -> Iterator[str]:
    """Return an iterator of reply fragments.

    The upstream request is made before this returns, so connection errors,
    timeouts and bad status codes raise here rather than mid-stream.
    """
    settings = _upstream_settings()
    if settings is None:
        return _local_stream(local_reply(messages))
    return _iter_upstream_deltas(_post(settings, messages, stream=True))


def _iter_upstream_deltas(response: requests.Response) -> Iterator[str]:
    try:
        for raw_line in response.iter_lines():
            line = raw_line.decode("utf-8") if isinstance(raw_line, bytes) else raw_line
            if not line.startswith("data:"):
                continue
            data = line[len("data:"):].strip()
            if data == "[DONE]":
                return
            try:
                delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
            except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
                raise UpstreamError() from exc
            if delta:
                yield delta
    except UnicodeDecodeError as exc:
        raise UpstreamError() from exc
    except requests.Timeout as exc:
        raise UpstreamTimeout() from exc
    except requests.RequestException as exc:
        raise UpstreamError("the language model stream was interrupted") from exc
    finally:
        response.close()


def _simulate_latency() -> None:
    latency_ms = current_app.config.get("LOCAL_RESPONDER_LATENCY_MS") or 0
    if latency_ms > 0:
        time.sleep(latency_ms / 1000)


def _local_stream(reply: str) -> Iterator[str]:
    _simulate_latency()
    yield from re.findall(r"\S+\s*", reply)


def local_reply(messages: ChatMessages) -> str:
    """Deterministic offline answer: echoes and sizes up the last user message."""
    user_turns = [m["content"] for m in messages if m.get("role") == "user"]
    if not user_turns:
        return "Hello! Send me a message and I will echo it back."
    words = user_turns[-1].split()
    preview = " ".join(words[:12]) + (" ..." if len(words) > 12 else "")
    plural = "" if len(words) == 1 else "s"
    return f'You said: "{preview}" ({len(words)} word{plural}, turn {len(user_turns)}).'
