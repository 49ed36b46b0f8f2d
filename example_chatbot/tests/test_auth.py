from datetime import timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.security import check_password_hash

from example_chatbot.auth import hash_token
from example_chatbot.models import Token, User, utcnow

PASSWORD = "correct-horse-battery"


def register(client, username="alice", password=PASSWORD):
    return client.post("/auth/register", json={"username": username, "password": password})


class TestRegister:
    def test_creates_user(self, client, db_session):
        response = register(client)
        assert response.status_code == 201
        body = response.get_json()
        assert body["username"] == "alice"
        assert isinstance(body["id"], int)
        assert body["created_at"].endswith("+00:00")
        assert "password" not in body and "password_hash" not in body

        user = db_session.scalar(select(User).where(User.username == "alice"))
        assert user.password_hash != PASSWORD
        assert check_password_hash(user.password_hash, PASSWORD)

    def test_username_is_case_insensitive(self, client):
        assert register(client, "Alice").get_json()["username"] == "alice"
        response = register(client, "ALICE")
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "conflict"

    def test_duplicate_username(self, client):
        register(client)
        response = register(client)
        assert response.status_code == 409
        assert response.get_json()["error"]["message"] == "username is already taken"

    @pytest.mark.parametrize("username", [None, "", "ab", "x" * 33, "has space", "bad/char", 42])
    def test_invalid_username(self, client, username):
        response = client.post("/auth/register", json={"username": username, "password": PASSWORD})
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["code"] == "validation_error"
        assert error["field"] == "username"

    @pytest.mark.parametrize("password", [None, "short", "x" * 129, 12345678])
    def test_invalid_password(self, client, password):
        response = client.post("/auth/register", json={"username": "alice", "password": password})
        assert response.status_code == 400
        assert response.get_json()["error"]["field"] == "password"

    def test_malformed_json_is_a_validation_error(self, client):
        response = client.post(
            "/auth/register", data="{not json", content_type="application/json"
        )
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "validation_error"

    def test_registration_disabled(self, app, client):
        app.config["ALLOW_REGISTRATION"] = False
        response = register(client)
        assert response.status_code == 403
        assert response.get_json()["error"] == {
            "code": "forbidden",
            "message": "registration is disabled",
            "request_id": response.headers["X-Request-ID"],
        }


class TestLogin:
    def test_issues_bearer_token(self, client, db_session):
        register(client)
        response = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 200
        body = response.get_json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert len(body["access_token"]) >= 40

        stored = db_session.scalars(select(Token.token_hash)).all()
        assert stored == [hash_token(body["access_token"])]

    def test_username_case_does_not_matter(self, client):
        register(client)
        response = client.post("/auth/login", json={"username": "ALICE", "password": PASSWORD})
        assert response.status_code == 200

    def test_each_login_gets_a_distinct_token(self, client):
        register(client)
        credentials = {"username": "alice", "password": PASSWORD}
        first = client.post("/auth/login", json=credentials).get_json()["access_token"]
        second = client.post("/auth/login", json=credentials).get_json()["access_token"]
        assert first != second
        for token in (first, second):
            me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200

    @pytest.mark.parametrize("username,password", [("alice", "wrong-password"),
                                                   ("nobody", PASSWORD)])
    def test_bad_credentials(self, client, username, password):
        register(client)
        response = client.post("/auth/login", json={"username": username, "password": password})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        error = response.get_json()["error"]
        assert error["code"] == "unauthorized"
        assert error["message"] == "invalid username or password"

    @pytest.mark.parametrize("body,field", [({}, "username"),
                                            ({"username": "alice"}, "password"),
                                            ({"username": "alice", "password": 5}, "password")])
    def test_missing_fields(self, client, body, field):
        response = client.post("/auth/login", json=body)
        assert response.status_code == 400
        assert response.get_json()["error"]["field"] == field

    def test_expired_tokens_are_purged_on_login(self, client, db_session, auth_headers):
        db_session.execute(update(Token).values(expires_at=utcnow() - timedelta(seconds=1)))
        db_session.commit()
        client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        db_session.expire_all()
        assert db_session.scalar(select(Token).where(Token.expires_at <= utcnow())) is None
        assert len(db_session.scalars(select(Token)).all()) == 1


class TestCurrentUser:
    def test_me(self, client, auth_headers):
        response = client.get("/auth/me", headers=auth_headers)
        assert response.status_code == 200
        assert response.get_json()["username"] == "alice"

    def test_missing_token(self, client):
        response = client.get("/auth/me")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert response.get_json()["error"]["message"] == "missing bearer token"

    @pytest.mark.parametrize("header", ["Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer   ", "token"])
    def test_malformed_header(self, client, header):
        response = client.get("/auth/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert "Bearer <token>" in response.get_json()["error"]["message"]

    def test_unknown_token(self, client, auth_headers):
        response = client.get("/auth/me", headers={"Authorization": "Bearer not-a-real-token"})
        assert response.status_code == 401
        assert response.get_json()["error"]["message"] == "invalid or expired token"

    def test_expired_token(self, client, db_session, auth_headers):
        db_session.execute(update(Token).values(expires_at=utcnow() - timedelta(seconds=1)))
        db_session.commit()
        response = client.get("/auth/me", headers=auth_headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["message"] == "invalid or expired token"


class TestLogout:
    def test_revokes_only_the_current_token(self, client, auth_headers, login):
        second_headers = login()
        response = client.post("/auth/logout", headers=auth_headers)
        assert response.status_code == 204
        assert response.get_data() == b""
        assert client.get("/auth/me", headers=auth_headers).status_code == 401
        assert client.get("/auth/me", headers=second_headers).status_code == 200

    def test_requires_token(self, client):
        assert client.post("/auth/logout").status_code == 401
