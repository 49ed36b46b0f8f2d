"""The upstream (OpenAI-compatible) LLM client, with requests.post faked."""

import io

import pytest
import requests
from sqlalchemy import func, select

from example_chatbot import llm
from example_chatbot.models import Message

from .helpers import FakeUpstream, completion, parse_sse, stream_body, upstream_response


@pytest.fixture
def upstream(app, monkeypatch):
    app.config.update(
        LLM_BASE_URL="http://llm.test/v1/",
        LLM_API_KEY="sk-test",
        LLM_MODEL="test-model",
        LLM_TIMEOUT=7.5,
    )
    fake = FakeUpstream()
    monkeypatch.setattr(requests, "post", fake)
    return fake


def send(client, headers, conversation_id, content="Hello", stream=False):
    path = f"/conversations/{conversation_id}/messages" + ("/stream" if stream else "")
    return client.post(path, json={"content": content}, headers=headers)


def message_count(db_session):
    return db_session.scalar(select(func.count()).select_from(Message))


class TestCompletion:
    def test_posts_openai_compatible_request(self, client, auth_headers, conversation, upstream):
        upstream.outcome = lambda: upstream_response(200, completion("Hi from upstream"))
        response = send(client, auth_headers, conversation["id"], "Hello")
        assert response.status_code == 201
        assert response.get_json()["reply"]["content"] == "Hi from upstream"

        [call] = upstream.calls
        assert call["url"] == "http://llm.test/v1/chat/completions"
        assert call["json"] == {"model": "test-model",
                                "messages": [{"role": "user", "content": "Hello"}]}
        assert call["headers"]["Authorization"] == "Bearer sk-test"
        assert call["timeout"] == 7.5
        assert call["stream"] is False

    def test_sends_history_and_system_prompt(self, client, auth_headers, upstream):
        upstream.outcome = lambda: upstream_response(200, completion("noted"))
        cid = client.post("/conversations", json={"system_prompt": "You are a pirate."},
                          headers=auth_headers).get_json()["id"]
        send(client, auth_headers, cid, "one")
        send(client, auth_headers, cid, "two")
        assert upstream.calls[-1]["json"]["messages"] == [
            {"role": "system", "content": "You are a pirate."},
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "noted"},
            {"role": "user", "content": "two"},
        ]

    def test_no_api_key_no_authorization_header(self, app, client, auth_headers, conversation,
                                                upstream):
        app.config["LLM_API_KEY"] = None
        upstream.outcome = lambda: upstream_response(200, completion("ok"))
        assert send(client, auth_headers, conversation["id"]).status_code == 201
        assert "Authorization" not in upstream.calls[0]["headers"]

    @pytest.mark.parametrize("exc", [requests.Timeout("slow"), requests.ReadTimeout("slow"),
                                     requests.ConnectTimeout("slow")])
    def test_timeout_is_504(self, client, auth_headers, conversation, upstream, db_session, exc):
        upstream.outcome = exc
        response = send(client, auth_headers, conversation["id"])
        assert response.status_code == 504
        assert response.get_json()["error"]["code"] == "upstream_timeout"
        assert message_count(db_session) == 0

    @pytest.mark.parametrize("exc", [requests.ConnectionError("refused"),
                                     requests.exceptions.SSLError("bad cert"),
                                     requests.exceptions.InvalidURL("bad url")])
    def test_connection_error_is_502(self, client, auth_headers, conversation, upstream,
                                     db_session, exc):
        upstream.outcome = exc
        response = send(client, auth_headers, conversation["id"])
        assert response.status_code == 502
        error = response.get_json()["error"]
        assert error["code"] == "upstream_error"
        assert error["message"] == "could not reach the language model"
        assert message_count(db_session) == 0

    @pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
    def test_bad_upstream_status_is_502(self, client, auth_headers, conversation, upstream,
                                        status):
        upstream.outcome = lambda: upstream_response(status, {"error": {"message": "nope"}})
        response = send(client, auth_headers, conversation["id"])
        assert response.status_code == 502
        error = response.get_json()["error"]
        assert error["code"] == "upstream_error"
        assert error["message"] == f"the language model answered with HTTP {status}"

    @pytest.mark.parametrize("body", [
        b"<html>gateway</html>",
        b"",
        {"choices": []},
        {"result": "no choices key"},
        {"choices": [{"message": {}}]},
        completion(None),
        completion(["not", "a", "string"]),
        b"[1, 2, 3]",
    ])
    def test_malformed_body_is_502(self, client, auth_headers, conversation, upstream,
                                   db_session, body):
        upstream.outcome = lambda: upstream_response(200, body)
        response = send(client, auth_headers, conversation["id"])
        assert response.status_code == 502
        error = response.get_json()["error"]
        assert error["code"] == "upstream_error"
        assert "Traceback" not in response.get_data(as_text=True)
        assert message_count(db_session) == 0

    @pytest.mark.parametrize("overrides", [
        {"LLM_BASE_URL": "llm.test/v1"},
        {"LLM_MODEL": None},
        {"LLM_TIMEOUT": 0},
    ])
    def test_misconfiguration_is_503(self, app, client, auth_headers, conversation, upstream,
                                     overrides):
        app.config.update(overrides)
        response = send(client, auth_headers, conversation["id"])
        assert response.status_code == 503
        assert response.get_json()["error"] == {
            "code": "llm_unavailable",
            "message": "the language model is not configured correctly",
            "request_id": response.headers["X-Request-ID"],
        }
        assert upstream.calls == []

    def test_disabled_is_503_without_a_call(self, app, client, auth_headers, conversation,
                                           upstream):
        app.config["LLM_ENABLED"] = False
        response = send(client, auth_headers, conversation["id"])
        assert response.status_code == 503
        assert response.get_json()["error"]["message"] == "the language model is disabled"
        assert upstream.calls == []


class _BrokenRaw(io.BytesIO):
    """A response body that fails after its first chunk."""

    def __init__(self, first: bytes, exc: Exception):
        super().__init__(first)
        self._exc = exc
        self._served = False

    def read(self, *args):
        if self._served:
            raise self._exc
        self._served = True
        return super().read()


class TestStreaming:
    def test_relays_upstream_deltas(self, client, auth_headers, conversation, upstream,
                                    db_session):
        upstream.outcome = lambda: upstream_response(200, stream_body("Hel", "lo", " there"))
        response = send(client, auth_headers, conversation["id"], "Hi", stream=True)
        assert response.status_code == 200
        events = parse_sse(response.get_data(as_text=True))
        assert [name for name, _ in events] == ["start", "delta", "delta", "delta", "done"]
        assert [data["content"] for name, data in events if name == "delta"] == [
            "Hel", "lo", " there"]
        assert events[-1][1]["reply"]["content"] == "Hello there"

        [call] = upstream.calls
        assert call["stream"] is True
        assert call["json"]["stream"] is True
        assert call["json"]["model"] == "test-model"
        stored = db_session.scalars(select(Message.content).order_by(Message.id)).all()
        assert stored == ["Hi", "Hello there"]

    def test_stream_without_done_marker(self, client, auth_headers, conversation, upstream):
        upstream.outcome = lambda: upstream_response(200, stream_body("a", "b", done=False))
        response = send(client, auth_headers, conversation["id"], stream=True)
        assert parse_sse(response.get_data(as_text=True))[-1][1]["reply"]["content"] == "ab"

    def test_timeout_before_streaming_is_504_json(self, client, auth_headers, conversation,
                                                  upstream):
        upstream.outcome = requests.ConnectTimeout("slow")
        response = send(client, auth_headers, conversation["id"], stream=True)
        assert response.status_code == 504
        assert response.is_json
        assert response.get_json()["error"]["code"] == "upstream_timeout"

    def test_connection_error_before_streaming_is_502_json(self, client, auth_headers,
                                                           conversation, upstream):
        upstream.outcome = requests.ConnectionError("refused")
        response = send(client, auth_headers, conversation["id"], stream=True)
        assert response.status_code == 502
        assert response.get_json()["error"]["code"] == "upstream_error"

    def test_bad_status_before_streaming_is_502_json(self, client, auth_headers, conversation,
                                                     upstream):
        upstream.outcome = lambda: upstream_response(500, b"oops")
        response = send(client, auth_headers, conversation["id"], stream=True)
        assert response.status_code == 502
        assert response.is_json

    def test_malformed_chunk_ends_stream_with_error_event(self, client, auth_headers,
                                                          conversation, upstream, db_session):
        body = stream_body("partial", done=False) + b"data: {not json}\n\n"
        upstream.outcome = lambda: upstream_response(200, body)
        response = send(client, auth_headers, conversation["id"], stream=True)
        assert response.status_code == 200
        events = parse_sse(response.get_data(as_text=True))
        assert [name for name, _ in events] == ["start", "delta", "error"]
        assert events[-1][1]["error"]["code"] == "upstream_error"
        assert message_count(db_session) == 0

    @pytest.mark.parametrize("exc,code", [
        (requests.ConnectionError("reset"), "upstream_error"),
        (requests.ReadTimeout("stalled"), "upstream_timeout"),
    ])
    def test_interrupted_stream_ends_with_error_event(self, client, auth_headers, conversation,
                                                      upstream, db_session, exc, code):
        def broken():
            response = upstream_response(200)
            response.raw = _BrokenRaw(stream_body("partial", done=False), exc)
            return response

        upstream.outcome = broken
        response = send(client, auth_headers, conversation["id"], stream=True)
        events = parse_sse(response.get_data(as_text=True))
        assert [name for name, _ in events] == ["start", "delta", "error"]
        assert events[-1][1]["error"]["code"] == code
        assert message_count(db_session) == 0


class TestLocalReply:
    def test_is_deterministic(self):
        messages = [{"role": "user", "content": "ping"}]
        assert llm.local_reply(messages) == llm.local_reply(messages)
        assert llm.local_reply(messages) == 'You said: "ping" (1 word, turn 1).'

    def test_truncates_long_messages(self):
        text = " ".join(f"w{i}" for i in range(20))
        reply = llm.local_reply([{"role": "user", "content": text}])
        assert reply == (
            'You said: "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 ..." (20 words, turn 1).'
        )

    def test_counts_user_turns_only(self):
        messages = [
            {"role": "system", "content": "be nice"},
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
            {"role": "user", "content": "c d"},
        ]
        assert llm.local_reply(messages) == 'You said: "c d" (2 words, turn 2).'

    def test_without_user_message(self):
        assert llm.local_reply([]).startswith("Hello!")
