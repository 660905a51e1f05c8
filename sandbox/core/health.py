"""``GET /healthz``: is the database reachable and does it have pgvector?"""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is the answer, reported as text
        return f"error: {exc.__class__.__name__}: {exc}".strip()
    return "ok"


def check_pgvector() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
    except Exception as exc:  # any failure is the answer, reported as text
        return f"error: {exc.__class__.__name__}: {exc}".strip()
    if row is None:
        return "error: the pgvector extension is not installed in this database"
    return "ok"


@never_cache
@require_GET
def healthz(request):
    database = check_database()
    pgvector = check_pgvector() if database == "ok" else "error: database unavailable"
    body = {"database": database, "pgvector": pgvector}
    if pgvector == "ok":
        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            body["pgvector_version"] = cursor.fetchone()[0]
            cursor.execute("SHOW server_version")
            body["postgresql_version"] = cursor.fetchone()[0]
    status = 200 if database == "ok" and pgvector == "ok" else 503
    return JsonResponse(body, status=status)
