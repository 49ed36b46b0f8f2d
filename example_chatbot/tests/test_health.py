from sqlalchemy import create_engine

from example_chatbot.db import EXTENSION_KEY


def test_live(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_ready(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_ready_reports_database_failure(app, client, tmp_path):
    broken = create_engine(f"sqlite:///{tmp_path}/missing-dir/db.sqlite3")
    app.extensions[EXTENSION_KEY].session_factory.configure(bind=broken)
    try:
        response = client.get("/health/ready")
    finally:
        broken.dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "error"}
    assert body["error"]["code"] == "database_unavailable"
    assert "Traceback" not in response.get_data(as_text=True)


def test_probes_need_no_authentication(client):
    assert client.get("/health/live", headers={"Authorization": "Bearer junk"}).status_code == 200
    assert client.get("/health/ready").status_code == 200
