import importlib
import re

from flask import Flask

from example_chatbot import config as config_module
from example_chatbot import create_app
from example_chatbot.config import TestingConfig
from example_chatbot.db import EXTENSION_KEY


def test_create_app_applies_config_class(app, tmp_path):
    assert app.testing
    assert app.config["SECRET_KEY"] == TestingConfig.SECRET_KEY
    assert app.config["DATABASE_URL"].startswith(f"sqlite:///{tmp_path}")


def test_create_app_accepts_a_mapping_and_in_memory_sqlite():
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    try:
        client = app.test_client()
        credentials = {"username": "carol", "password": "password123"}
        assert client.post("/auth/register", json=credentials).status_code == 201
        token = client.post("/auth/login", json=credentials).get_json()["access_token"]
        me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.get_json()["username"] == "carol"
    finally:
        app.extensions[EXTENSION_KEY].engine.dispose()


def test_default_database_is_sqlite_in_instance_folder(monkeypatch, tmp_path):
    instance = tmp_path / "instance"
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(instance))
    app = create_app({"TESTING": True, "DATABASE_URL": None})
    try:
        assert app.instance_path == str(instance)
        assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'chatbot.sqlite3'}"
        assert app.test_client().get("/health/ready").status_code == 200
        assert (instance / "chatbot.sqlite3").exists()
    finally:
        app.extensions[EXTENSION_KEY].engine.dispose()


def test_config_reads_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/chat")
    monkeypatch.setenv("LLM_BASE_URL", "https://llm.example/v1")
    monkeypatch.setenv("LLM_API_KEY", "sk-env")
    monkeypatch.setenv("LLM_MODEL", "some-model")
    monkeypatch.setenv("LLM_TIMEOUT", "12.5")
    monkeypatch.setenv("LOCAL_RESPONDER_LATENCY_MS", "250")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("LLM_ENABLED", "false")
    try:
        cfg = importlib.reload(config_module).Config
        assert cfg.SECRET_KEY == "from-env"
        assert cfg.DATABASE_URL == "postgresql+psycopg://db/chat"
        assert cfg.LLM_BASE_URL == "https://llm.example/v1"
        assert cfg.LLM_API_KEY == "sk-env"
        assert cfg.LLM_MODEL == "some-model"
        assert cfg.LLM_TIMEOUT == 12.5
        assert cfg.LOCAL_RESPONDER_LATENCY_MS == 250
        assert cfg.CORS_ORIGINS == ["https://a.example", "https://b.example"]
        assert cfg.LLM_ENABLED is False
    finally:
        monkeypatch.undo()
        importlib.reload(config_module)


def test_config_defaults_without_environment(monkeypatch):
    for name in ("DATABASE_URL", "LLM_BASE_URL", "LOCAL_RESPONDER_LATENCY_MS", "CORS_ORIGINS",
                 "LLM_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    try:
        cfg = importlib.reload(config_module).Config
        assert cfg.DATABASE_URL is None
        assert cfg.LLM_BASE_URL is None
        assert cfg.LOCAL_RESPONDER_LATENCY_MS == 0
        assert cfg.LLM_TIMEOUT == 30.0
        assert cfg.CORS_ORIGINS == ["*"]
    finally:
        monkeypatch.undo()
        importlib.reload(config_module)


class TestRequestIdAndTiming:
    def test_generates_request_id(self, client):
        response = client.get("/health/live")
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
        assert float(response.headers["X-Response-Time-ms"]) >= 0

    def test_each_request_gets_a_new_id(self, client):
        first = client.get("/health/live").headers["X-Request-ID"]
        second = client.get("/health/live").headers["X-Request-ID"]
        assert first != second

    def test_echoes_incoming_request_id(self, client):
        response = client.get("/health/live", headers={"X-Request-ID": "req-abc.123"})
        assert response.headers["X-Request-ID"] == "req-abc.123"

    def test_replaces_unsafe_request_id(self, client):
        response = client.get("/health/live", headers={"X-Request-ID": "bad id\twith<stuff>"})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])

    def test_headers_and_id_on_error_responses(self, client):
        response = client.get("/nope", headers={"X-Request-ID": "trace-404"})
        assert response.status_code == 404
        assert response.headers["X-Request-ID"] == "trace-404"
        assert "X-Response-Time-ms" in response.headers
        assert response.get_json()["error"]["request_id"] == "trace-404"


class TestErrorHandlers:
    def test_404_is_json(self, client):
        response = client.get("/does-not-exist")
        assert response.status_code == 404
        assert response.is_json
        error = response.get_json()["error"]
        assert error["code"] == "not_found"
        assert error["message"]

    def test_405_is_json_with_allow_header(self, client):
        response = client.put("/health/live")
        assert response.status_code == 405
        assert response.get_json()["error"]["code"] == "method_not_allowed"
        assert "GET" in response.headers["Allow"]

    def test_400_for_non_object_body(self, client):
        response = client.post("/auth/register", json=["alice", "secret"])
        assert response.status_code == 400
        assert response.get_json()["error"] == {
            "code": "bad_request",
            "message": "request body must be a JSON object",
            "request_id": response.headers["X-Request-ID"],
        }

    def test_413_for_oversized_body(self, client):
        response = client.post(
            "/auth/register",
            data=b"x" * (1024 * 1024 + 1),
            content_type="application/json",
        )
        assert response.status_code == 413
        assert response.get_json()["error"]["code"] == "payload_too_large"

    def test_500_is_json_without_traceback(self, make_app):
        app = make_app(PROPAGATE_EXCEPTIONS=False)

        @app.get("/boom")
        def boom():
            raise RuntimeError("secret internals")

        response = app.test_client().get("/boom")
        assert response.status_code == 500
        body = response.get_json()
        assert body["error"]["code"] == "internal_error"
        assert body["error"]["message"] == "internal server error"
        assert "secret internals" not in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)


class TestCors:
    def test_allowed_origin(self, client):
        response = client.get("/health/live", headers={"Origin": "http://frontend.test"})
        assert response.headers["Access-Control-Allow-Origin"] == "http://frontend.test"
        exposed = response.headers["Access-Control-Expose-Headers"]
        assert "X-Request-ID" in exposed and "X-Response-Time-ms" in exposed

    def test_preflight(self, client):
        response = client.options(
            "/conversations",
            headers={
                "Origin": "http://frontend.test",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization, Content-Type",
            },
        )
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "http://frontend.test"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]

    def test_other_origin_not_allowed(self, client):
        response = client.get("/health/live", headers={"Origin": "http://evil.test"})
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response.headers

    def test_credentials_flag(self, make_app):
        app = make_app(CORS_SUPPORTS_CREDENTIALS=True)
        response = app.test_client().get(
            "/health/live", headers={"Origin": "http://frontend.test"}
        )
        assert response.headers["Access-Control-Allow-Credentials"] == "true"

