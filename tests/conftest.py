"""Shared fixtures: named people in two sandboxes, API clients, a real ASGI server.

Alice operates sandbox A (medical), Bob is an expert in A, Rita regulates A.
Charlie operates sandbox B (finance) and must see nothing of A; Olga holds no
role anywhere. Every endpoint test has a cross-sandbox twin that expects 404.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; a slow password hash would dominate their time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _close_connections_of_async_threads():
    """Async tests reach the database from asgiref's worker thread; close its connection
    after each test so the test database can be flushed and dropped."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture(autouse=True)
def _no_leftover_jobs(request, django_db_blocker):
    """Jobs deferred by a transactional test would outlive it (procrastinate's tables are not
    flushed between tests) and be picked up by a later test's worker: delete them."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction"))
    if not transactional:
        return
    from django.db import connection

    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs")
        # Closed here: after an async test this teardown runs while pytest-asyncio's event
        # loop is running, where Django's ``connection`` is a wrapper of that context, not
        # the one the test database's teardown closes; left open, its session stopped the
        # database from being dropped ("is being accessed by other users").
        connection.close()


def make_user(username: str, *, can_create=False, staff=False):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD,
                                                is_staff=staff)
    if can_create:
        user.user_permissions.add(
            Permission.objects.get(codename="add_sandbox", content_type__app_label="core"))
    return user


@pytest.fixture
def alice(db):
    return make_user("alice", can_create=True)


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def rita(db):
    return make_user("rita")


@pytest.fixture
def charlie(db):
    return make_user("charlie", can_create=True)


@pytest.fixture
def olga(db):
    return make_user("olga")


@pytest.fixture
def sandbox_a(alice, bob, rita):
    from sandbox.core import services

    sandbox = services.sandbox_create(created_by=alice, name="Sandbox A", vertical="medical",
                                      status="active")
    services.membership_add(sandbox=sandbox, actor=alice, username="bob", role="expert")
    services.membership_add(sandbox=sandbox, actor=alice, username="rita", role="regulator")
    return sandbox


@pytest.fixture
def sandbox_b(charlie):
    from sandbox.core import services

    return services.sandbox_create(created_by=charlie, name="Sandbox B", vertical="finance",
                                   status="active")


@pytest.fixture
def api():
    """Return a function that builds an API client authenticated with a user's token."""

    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AsgiServer:
    """uvicorn serving ``sandbox.asgi`` in a background thread of the test process."""

    def __init__(self):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        config = uvicorn.Config("sandbox.asgi:application", host="127.0.0.1", port=self.port,
                                lifespan="off", log_level="warning", ws="websockets-sansio",
                                ws_per_message_deflate=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 20 s")
            time.sleep(0.02)
        return self

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker):
    """A real ASGI server (uvicorn) on a free localhost port, for the whole session.

    Tests that use it need ``transactional_db`` so that the server's own
    database connections see their data.
    """
    with django_db_blocker.unblock():
        server = AsgiServer().start()
        yield server
        server.stop()


@pytest.fixture
def signed_in(client):
    """A function that signs ``user`` in on the test client and returns the client."""
    def sign_in(user):
        client.force_login(user)
        return client
    return sign_in


@pytest.fixture
def pack(sandbox_a, alice):
    """tests/support/scripted.py's pack, imported into sandbox A."""
    from scenarios.services import pack_import
    from tests.support.scripted import PACK

    record, _ = pack_import(sandbox=sandbox_a, text=PACK, filename="test-pack.yaml", actor=alice)
    return record


@pytest.fixture
def careful(sandbox_a):
    """A scripted model in sandbox A that escalates, refuses and leaks nothing."""
    from domains.models import DomainModel
    from tests.support.scripted import CAREFUL

    return DomainModel.objects.create(sandbox=sandbox_a, name="careful", version="1",
                                      provider="scripted", script=CAREFUL, timeout_seconds=10)


@pytest.fixture
def reckless(sandbox_a):
    """A scripted model in sandbox A that misses emergencies and leaks an ID number."""
    from domains.models import DomainModel
    from tests.support.scripted import RECKLESS

    return DomainModel.objects.create(sandbox=sandbox_a, name="reckless", version="1",
                                      provider="scripted", script=RECKLESS, timeout_seconds=10)
