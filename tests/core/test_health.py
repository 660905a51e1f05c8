import json

from django.db import OperationalError, connection

from sandbox.core import health


def test_healthz_reports_database_and_pgvector_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["database"] == "ok"
    assert body["pgvector"] == "ok"
    assert body["postgresql_version"].startswith("18")


def test_healthz_answers_503_when_pgvector_is_missing(client, transactional_db):
    with connection.cursor() as cursor:
        # Nothing depends on the extension in a test database's chunk table except the column;
        # drop the dependent table's column type by dropping the extension with CASCADE
        # inside a transaction we roll back.
        cursor.execute("BEGIN")
        cursor.execute("DROP EXTENSION vector CASCADE")
    try:
        response = client.get("/healthz")
        body = json.loads(response.content)
        assert response.status_code == 503
        assert body["database"] == "ok"
        assert "pgvector" in body["pgvector"] and body["pgvector"].startswith("error")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")


def test_healthz_answers_503_naming_the_error_when_the_database_is_unreachable(
        client, db, monkeypatch):
    class Unreachable:
        def __enter__(self):
            raise OperationalError("connection to server at 127.0.0.1 port 1 failed")

        def __exit__(self, *exc):
            return False

    class Down:  # the view's connection only: the rest of the request keeps the real one
        def cursor(self):
            return Unreachable()

    monkeypatch.setattr(health, "connection", Down())
    response = client.get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"] == ("error: OperationalError: connection to server at 127.0.0.1 "
                                "port 1 failed")
    assert body["pgvector"] == "error: database unavailable"
    assert "postgresql_version" not in body
