import pytest
from sqlalchemy import func, select

from example_chatbot import llm
from example_chatbot.models import Conversation, Message

from .helpers import parse_sse


def send(client, headers, conversation_id, content, stream=False):
    path = f"/conversations/{conversation_id}/messages" + ("/stream" if stream else "")
    return client.post(path, json={"content": content}, headers=headers)


def message_count(db_session):
    return db_session.scalar(select(func.count()).select_from(Message))


class TestSendMessage:
    def test_replies_with_local_responder(self, client, auth_headers, conversation):
        response = send(client, auth_headers, conversation["id"], "What is the weather like?")
        assert response.status_code == 201
        body = response.get_json()
        assert body["message"]["role"] == "user"
        assert body["message"]["content"] == "What is the weather like?"
        assert body["reply"]["role"] == "assistant"
        assert body["reply"]["content"] == (
            'You said: "What is the weather like?" (5 words, turn 1).'
        )
        assert body["reply"]["conversation_id"] == conversation["id"]
        assert body["reply"]["id"] > body["message"]["id"]

    def test_stores_both_messages(self, client, auth_headers, conversation, db_session):
        send(client, auth_headers, conversation["id"], "Hello there")
        rows = db_session.scalars(select(Message).order_by(Message.id)).all()
        assert [(m.role, m.content) for m in rows] == [
            ("user", "Hello there"),
            ("assistant", 'You said: "Hello there" (2 words, turn 1).'),
        ]

    def test_history_is_read_from_the_database(self, client, auth_headers, conversation):
        send(client, auth_headers, conversation["id"], "first")
        reply = send(client, auth_headers, conversation["id"], "second").get_json()["reply"]
        assert reply["content"] == 'You said: "second" (1 word, turn 2).'

    def test_history_passed_to_model(self, app, client, auth_headers, monkeypatch):
        seen = []
        monkeypatch.setattr(llm, "complete", lambda messages: seen.append(messages) or "ok")
        cid = client.post("/conversations", json={"system_prompt": "Be terse."},
                          headers=auth_headers).get_json()["id"]
        send(client, auth_headers, cid, "one")
        send(client, auth_headers, cid, "two")
        assert seen[-1] == [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "two"},
        ]

    def test_history_is_limited(self, app, client, auth_headers, conversation, monkeypatch):
        app.config["HISTORY_LIMIT"] = 2
        seen = []
        monkeypatch.setattr(llm, "complete", lambda messages: seen.append(messages) or "ok")
        for content in ("a", "b", "c"):
            send(client, auth_headers, conversation["id"], content)
        assert seen[-1] == [
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "c"},
        ]

    def test_first_message_titles_untitled_conversation(self, client, auth_headers, db_session):
        cid = client.post("/conversations", headers=auth_headers).get_json()["id"]
        send(client, auth_headers, cid, "  Plan a   weekend in Lisbon " + "x" * 80)
        title = db_session.get(Conversation, cid).title
        assert title.startswith("Plan a weekend in Lisbon x")
        assert len(title) == 60

    def test_existing_title_is_kept(self, client, auth_headers, conversation, db_session):
        send(client, auth_headers, conversation["id"], "Hello")
        assert db_session.get(Conversation, conversation["id"]).title == "Trip planning"

    @pytest.mark.parametrize("body", [{}, {"content": ""}, {"content": "   "}, {"content": 42},
                                      {"content": None}, {"text": "hi"}])
    def test_invalid_content(self, client, auth_headers, conversation, body, db_session):
        response = client.post(f"/conversations/{conversation['id']}/messages", json=body,
                               headers=auth_headers)
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error == {"code": "validation_error", "field": "content",
                         "message": "content must be a non-empty string",
                         "request_id": response.headers["X-Request-ID"]}
        assert message_count(db_session) == 0

    def test_content_too_long(self, app, client, auth_headers, conversation):
        app.config["MAX_MESSAGE_CHARS"] = 10
        response = send(client, auth_headers, conversation["id"], "x" * 11)
        assert response.status_code == 400
        assert response.get_json()["error"]["message"] == "content must be at most 10 characters"

    def test_non_object_body(self, client, auth_headers, conversation):
        response = client.post(f"/conversations/{conversation['id']}/messages",
                               json=["hi"], headers=auth_headers)
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "bad_request"

    def test_other_users_conversation(self, client, conversation, other_headers, db_session):
        response = send(client, other_headers, conversation["id"], "let me in")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
        assert message_count(db_session) == 0

    def test_missing_conversation(self, client, auth_headers):
        assert send(client, auth_headers, 12345, "hello").status_code == 404

    def test_get_is_not_allowed(self, client, auth_headers, conversation):
        response = client.get(f"/conversations/{conversation['id']}/messages",
                              headers=auth_headers)
        assert response.status_code == 405
        assert response.get_json()["error"]["code"] == "method_not_allowed"

    def test_llm_disabled(self, app, client, auth_headers, conversation, db_session):
        app.config["LLM_ENABLED"] = False
        response = send(client, auth_headers, conversation["id"], "hello")
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "llm_unavailable"
        assert message_count(db_session) == 0

    def test_simulated_latency(self, app, client, auth_headers, conversation, monkeypatch):
        sleeps = []
        monkeypatch.setattr(llm.time, "sleep", sleeps.append)
        send(client, auth_headers, conversation["id"], "no delay")
        assert sleeps == []
        app.config["LOCAL_RESPONDER_LATENCY_MS"] = 250
        assert send(client, auth_headers, conversation["id"], "slow").status_code == 201
        assert sleeps == [0.25]


class TestStreamMessage:
    def test_streams_server_sent_events(self, client, auth_headers, conversation, db_session):
        response = send(client, auth_headers, conversation["id"], "Tell me a joke", stream=True)
        assert response.status_code == 200
        assert response.mimetype == "text/event-stream"
        assert response.headers["Cache-Control"] == "no-cache"
        assert "X-Request-ID" in response.headers

        events = parse_sse(response.get_data(as_text=True))
        names = [name for name, _ in events]
        assert names[0] == "start" and names[-1] == "done"
        assert set(names[1:-1]) == {"delta"}
        assert events[0][1] == {"conversation_id": conversation["id"]}

        expected = 'You said: "Tell me a joke" (4 words, turn 1).'
        streamed = "".join(data["content"] for name, data in events if name == "delta")
        assert streamed == expected
        assert len(events) - 2 == len(expected.split())

        done = events[-1][1]
        assert done["reply"]["content"] == expected
        assert done["message"]["content"] == "Tell me a joke"
        rows = db_session.scalars(select(Message).order_by(Message.id)).all()
        assert [(m.id, m.role, m.content) for m in rows] == [
            (done["message"]["id"], "user", "Tell me a joke"),
            (done["reply"]["id"], "assistant", expected),
        ]

    def test_stream_continues_conversation(self, client, auth_headers, conversation):
        send(client, auth_headers, conversation["id"], "first")
        response = send(client, auth_headers, conversation["id"], "second", stream=True)
        done = parse_sse(response.get_data(as_text=True))[-1][1]
        assert done["reply"]["content"] == 'You said: "second" (1 word, turn 2).'
        detail = client.get(f"/conversations/{conversation['id']}", headers=auth_headers)
        assert len(detail.get_json()["messages"]) == 4

    def test_stream_titles_and_bumps_conversation(self, client, auth_headers, db_session):
        untitled = client.post("/conversations", headers=auth_headers).get_json()
        client.post("/conversations", json={"title": "newer"}, headers=auth_headers)
        response = send(client, auth_headers, untitled["id"], "Streamed   first message",
                        stream=True)
        assert parse_sse(response.get_data(as_text=True))[-1][0] == "done"

        stored = db_session.get(Conversation, untitled["id"])
        assert stored.title == "Streamed first message"
        items = client.get("/conversations", headers=auth_headers).get_json()["items"]
        assert items[0]["id"] == untitled["id"]
        assert items[0]["updated_at"] > untitled["updated_at"]

    def test_conversation_deleted_while_streaming(self, client, auth_headers, conversation,
                                                  db_session, monkeypatch):
        def fragments(messages):
            yield "partial "
            db_session.delete(db_session.get(Conversation, conversation["id"]))
            db_session.commit()
            yield "reply"

        monkeypatch.setattr(llm, "stream", fragments)
        response = send(client, auth_headers, conversation["id"], "hi", stream=True)
        events = parse_sse(response.get_data(as_text=True))
        assert [name for name, _ in events] == ["start", "delta", "delta", "error"]
        assert events[-1][1]["error"]["code"] == "not_found"
        assert message_count(db_session) == 0

    def test_invalid_content(self, client, auth_headers, conversation):
        response = send(client, auth_headers, conversation["id"], "", stream=True)
        assert response.status_code == 400
        assert response.is_json
        assert response.get_json()["error"]["field"] == "content"

    def test_other_users_conversation(self, client, conversation, other_headers, db_session):
        response = send(client, other_headers, conversation["id"], "hi", stream=True)
        assert response.status_code == 404
        assert response.is_json
        assert message_count(db_session) == 0

    def test_llm_disabled_is_json_not_a_stream(self, app, client, auth_headers, conversation):
        app.config["LLM_ENABLED"] = False
        response = send(client, auth_headers, conversation["id"], "hi", stream=True)
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "llm_unavailable"
