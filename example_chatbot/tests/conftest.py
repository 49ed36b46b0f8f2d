import pytest

from example_chatbot import create_app
from example_chatbot.config import TestingConfig
from example_chatbot.db import EXTENSION_KEY


@pytest.fixture
def make_app(tmp_path):
    """Build apps on a fresh SQLite file under tmp_path; extra settings as kwargs."""
    apps = []

    def factory(**overrides):
        settings = {
            "DATABASE_URL": f"sqlite:///{tmp_path / f'chatbot-{len(apps)}.sqlite3'}",
            **overrides,
        }
        app = create_app(type("PerTestConfig", (TestingConfig,), settings))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions[EXTENSION_KEY].engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db_session(app):
    """A session on the app's database, for checking what the API stored."""
    session = app.extensions[EXTENSION_KEY].session_factory()
    yield session
    session.close()


@pytest.fixture
def login(client):
    """Register a user (if needed), log in and return auth headers."""

    def _login(username="alice", password="correct-horse-battery"):
        response = client.post(
            "/auth/register", json={"username": username, "password": password}
        )
        assert response.status_code in (201, 409), response.get_json()
        response = client.post("/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['access_token']}"}

    return _login


@pytest.fixture
def auth_headers(login):
    return login()


@pytest.fixture
def other_headers(login):
    return login("bob", "another-password")


@pytest.fixture
def conversation(client, auth_headers):
    response = client.post("/conversations", json={"title": "Trip planning"}, headers=auth_headers)
    assert response.status_code == 201
    return response.get_json()
