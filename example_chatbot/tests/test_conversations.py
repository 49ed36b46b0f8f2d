import pytest
from sqlalchemy import func, select

from example_chatbot.models import Conversation, Message


def create(client, headers, **body):
    response = client.post("/conversations", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("method,path", [
    ("post", "/conversations"),
    ("get", "/conversations"),
    ("get", "/conversations/1"),
    ("delete", "/conversations/1"),
    ("post", "/conversations/1/messages"),
    ("post", "/conversations/1/messages/stream"),
])
def test_routes_require_authentication(client, method, path):
    response = getattr(client, method)(path, json={"content": "hi"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


class TestCreate:
    def test_creates_conversation(self, client, auth_headers):
        response = client.post(
            "/conversations",
            json={"title": "  Trip planning ", "system_prompt": "Be brief."},
            headers=auth_headers,
        )
        assert response.status_code == 201
        body = response.get_json()
        assert body["title"] == "Trip planning"
        assert body["system_prompt"] == "Be brief."
        assert response.headers["Location"] == f"/conversations/{body['id']}"
        assert body["created_at"].endswith("+00:00")
        assert body["updated_at"] >= body["created_at"]

    def test_body_is_optional(self, client, auth_headers):
        response = client.post("/conversations", headers=auth_headers)
        assert response.status_code == 201
        assert response.get_json()["title"] is None
        assert response.get_json()["system_prompt"] is None

    @pytest.mark.parametrize("body,field", [
        ({"title": 5}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"system_prompt": ["no"]}, "system_prompt"),
        ({"system_prompt": "x" * 4001}, "system_prompt"),
    ])
    def test_validation(self, client, auth_headers, body, field):
        response = client.post("/conversations", json=body, headers=auth_headers)
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["code"] == "validation_error"
        assert error["field"] == field

    def test_non_object_body(self, client, auth_headers):
        response = client.post("/conversations", json="title", headers=auth_headers)
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "bad_request"


class TestList:
    def test_lists_newest_first_with_paging(self, client, auth_headers):
        ids = [create(client, auth_headers, title=f"c{i}")["id"] for i in range(5)]

        page1 = client.get("/conversations?per_page=2", headers=auth_headers).get_json()
        assert [c["id"] for c in page1["items"]] == [ids[4], ids[3]]
        assert (page1["page"], page1["per_page"], page1["total"], page1["pages"]) == (1, 2, 5, 3)

        page3 = client.get("/conversations?per_page=2&page=3", headers=auth_headers).get_json()
        assert [c["id"] for c in page3["items"]] == [ids[0]]

        beyond = client.get("/conversations?per_page=2&page=9", headers=auth_headers).get_json()
        assert beyond["items"] == [] and beyond["total"] == 5

    def test_default_page_size(self, client, auth_headers):
        body = client.get("/conversations", headers=auth_headers).get_json()
        assert body == {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 0}

    @pytest.mark.parametrize("query,page,per_page", [
        ("per_page=1000", 1, 100),
        ("per_page=0", 1, 1),
        ("per_page=-5", 1, 1),
        ("page=0", 1, 20),
        ("page=-3", 1, 20),
        ("page=abc&per_page=xyz", 1, 20),
    ])
    def test_paging_is_bounded(self, client, auth_headers, query, page, per_page):
        body = client.get(f"/conversations?{query}", headers=auth_headers).get_json()
        assert (body["page"], body["per_page"]) == (page, per_page)

    def test_recent_activity_moves_conversation_to_top(self, client, auth_headers):
        older = create(client, auth_headers, title="older")
        create(client, auth_headers, title="newer")
        client.post(f"/conversations/{older['id']}/messages", json={"content": "bump"},
                    headers=auth_headers)
        items = client.get("/conversations", headers=auth_headers).get_json()["items"]
        assert items[0]["id"] == older["id"]

    def test_only_own_conversations(self, client, auth_headers, other_headers):
        mine = create(client, auth_headers, title="mine")
        create(client, other_headers, title="theirs")
        body = client.get("/conversations", headers=auth_headers).get_json()
        assert [c["id"] for c in body["items"]] == [mine["id"]]
        assert body["total"] == 1


class TestGet:
    def test_returns_conversation_with_messages(self, client, auth_headers, conversation):
        cid = conversation["id"]
        client.post(f"/conversations/{cid}/messages", json={"content": "Hello"},
                    headers=auth_headers)
        response = client.get(f"/conversations/{cid}", headers=auth_headers)
        assert response.status_code == 200
        body = response.get_json()
        assert body["id"] == cid
        assert body["title"] == "Trip planning"
        assert [(m["role"], m["content"]) for m in body["messages"]] == [
            ("user", "Hello"),
            ("assistant", 'You said: "Hello" (1 word, turn 1).'),
        ]

    def test_other_users_conversation_is_not_found(self, client, conversation, other_headers):
        response = client.get(f"/conversations/{conversation['id']}", headers=other_headers)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
        assert response.get_json()["error"]["message"] == "conversation not found"

    def test_missing_conversation(self, client, auth_headers):
        response = client.get("/conversations/999", headers=auth_headers)
        assert response.status_code == 404
        assert response.get_json()["error"]["message"] == "conversation not found"

    def test_non_integer_id_does_not_match(self, client, auth_headers):
        response = client.get("/conversations/abc", headers=auth_headers)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"

    def test_unsupported_method(self, client, auth_headers, conversation):
        response = client.put(f"/conversations/{conversation['id']}", headers=auth_headers)
        assert response.status_code == 405
        assert response.get_json()["error"]["code"] == "method_not_allowed"
        assert set(response.headers["Allow"].split(", ")) >= {"GET", "DELETE"}


class TestDelete:
    def test_deletes_conversation_and_messages(self, client, auth_headers, conversation,
                                               db_session):
        cid = conversation["id"]
        client.post(f"/conversations/{cid}/messages", json={"content": "Hi"},
                    headers=auth_headers)
        response = client.delete(f"/conversations/{cid}", headers=auth_headers)
        assert response.status_code == 204
        assert response.get_data() == b""
        assert client.get(f"/conversations/{cid}", headers=auth_headers).status_code == 404
        assert db_session.scalar(select(func.count()).select_from(Message)) == 0

    def test_other_user_cannot_delete(self, client, conversation, other_headers, db_session):
        response = client.delete(f"/conversations/{conversation['id']}", headers=other_headers)
        assert response.status_code == 404
        assert db_session.get(Conversation, conversation["id"]) is not None

    def test_delete_twice(self, client, auth_headers, conversation):
        path = f"/conversations/{conversation['id']}"
        assert client.delete(path, headers=auth_headers).status_code == 204
        assert client.delete(path, headers=auth_headers).status_code == 404
