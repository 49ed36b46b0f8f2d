"""The original example chatbot as a careful Flask developer writes it (issue 11, "a fair
original"): a chat request gives its pooled DB connection back before the model is called, so
the load benchmark measures the frameworks and not a pool held through every LLM call. And the
pool's size comes from the app's config, so both versions of the benchmark run with the same."""

import pytest

from example_chatbot import chat, create_app, llm
from example_chatbot.config import TestingConfig
from example_chatbot.db import EXTENSION_KEY, make_engine


@pytest.fixture
def app(tmp_path):
    app = create_app(type("Config", (TestingConfig,), {"DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}"}))
    yield app
    app.extensions[EXTENSION_KEY].engine.dispose()


@pytest.fixture
def chat_headers(app):
    client = app.test_client()
    user = {"username": "alice", "password": "correct-horse-battery"}
    assert client.post("/auth/register", json=user).status_code == 201
    token = client.post("/auth/login", json=user).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    conversation = client.post("/conversations", json={}, headers=headers).get_json()["id"]
    return client, headers, conversation


@pytest.mark.parametrize("path, model_call", [("messages", "complete"), ("messages/stream", "stream")])
def test_no_connection_is_held_while_the_model_answers(app, chat_headers, monkeypatch, path, model_call):
    client, headers, conversation = chat_headers
    pool = app.extensions[EXTENSION_KEY].engine.pool
    held = []
    real = getattr(llm, model_call)

    def model(messages):
        held.append(pool.checkedout())
        return real(messages)

    monkeypatch.setattr(llm, model_call, model)
    response = client.post(f"/conversations/{conversation}/{path}", json={"content": "Tell me a joke"}, headers=headers)
    response.get_data()  # a stream stores the exchange at its end
    assert response.status_code in (200, 201)
    assert held == [0]
    # the first message titled the conversation, with the conversation loaded before the release
    detail = client.get(f"/conversations/{conversation}", headers=headers).get_json()
    assert detail["title"] == "Tell me a joke"
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]


def test_a_released_session_still_holds_what_it_loaded(app, chat_headers, monkeypatch):
    """The release is a commit: with expire_on_commit=False nothing loaded is reloaded after it."""
    client, headers, conversation = chat_headers
    statements = []
    real = chat._store_exchange

    def store(loaded, content, reply):
        from sqlalchemy import event

        engine = app.extensions[EXTENSION_KEY].engine
        listen = lambda *args: statements.append(args[2].split()[0])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            return real(loaded, content, reply)
        finally:
            event.remove(engine, "before_cursor_execute", listen)

    monkeypatch.setattr(chat, "_store_exchange", store)
    response = client.post(f"/conversations/{conversation}/messages", json={"content": "hi"}, headers=headers)
    assert response.status_code == 201
    assert "SELECT" not in statements and statements.count("INSERT") >= 1


def test_the_pool_is_sized_from_the_config(tmp_path):
    engine = make_engine("postgresql+psycopg://bench@/bench", pool_size=7, max_overflow=3)
    assert (engine.pool.size(), engine.pool._max_overflow) == (7, 3)
    default = make_engine("postgresql+psycopg://bench@/bench")
    assert (default.pool.size(), default.pool._max_overflow) == (5, 10)
    app = create_app(type("Config", (TestingConfig,), {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}"}))
    try:
        assert (app.config["DATABASE_POOL_SIZE"], app.config["DATABASE_MAX_OVERFLOW"]) == (5, 10)
    finally:
        app.extensions[EXTENSION_KEY].engine.dispose()
