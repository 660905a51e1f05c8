"""A DATABASE_URL pointing at a PostgreSQL server without pgvector is refused before any
migration runs, with a message that says what to install (``sandbox/core/checks.py``)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from sandbox.core.checks import pgvector_available

ROOT = Path(__file__).resolve().parents[2]
# The machine's own PostgreSQL (Debian's, without pgvector), when there is one.
SYSTEM_SERVER = os.environ.get("NO_PGVECTOR_SERVER", "postgresql://root@127.0.0.1:5432/postgres")


def test_the_embedded_database_passes_the_check(db):
    assert pgvector_available(databases=["default"]) == []


def test_a_server_without_pgvector_stops_migrate_with_a_clear_message():
    try:
        admin = psycopg.connect(SYSTEM_SERVER, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server without pgvector here ({SYSTEM_SERVER}): {exc}")
    with admin:
        if admin.execute("SELECT EXISTS (SELECT FROM pg_available_extensions"
                         " WHERE name = 'vector')").fetchone()[0]:
            pytest.skip(f"the server at {SYSTEM_SERVER} has pgvector")
        version = admin.execute("SHOW server_version").fetchone()[0].split(".")[0]
        name = f"no_pgvector_{uuid.uuid4().hex[:8]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = SYSTEM_SERVER.rsplit("/", 1)[0] + f"/{name}"
            env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_NAME"}
            result = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input"],
                                    cwd=ROOT, env={**env, "DATABASE_URL": url},
                                    capture_output=True, text=True, timeout=120)
            with psycopg.connect(url) as migrated:  # nothing was half-migrated
                tables = migrated.execute("SELECT count(*) FROM information_schema.tables"
                                          " WHERE table_schema = 'public'").fetchone()[0]
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "(sandbox.E001)" in output and "does not have the pgvector extension" in output
    assert f"apt install postgresql-{version}-pgvector" in output
    assert "unset DATABASE_URL" in output
    assert "Traceback" not in output
    assert tables == 0
