"""Who may open the live websockets: every role, other sandboxes, origins, tickets."""

from datetime import timedelta

import pytest
from django.utils import timezone
from websockets.exceptions import ConnectionClosed

from sandbox.core.models import Membership
from sandbox.live.models import WsTicket, ticket_digest
from tests.live.conftest import open_ws, refusal, ticket_for
from tests.matrix import ROLES

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]

# The handshake's answer per role: 101 is "switching protocols" (connected).
EXPECT = {"operator": 101, "regulator": 101, "expert": 403, "outsider": 404, "other": 404,
          "anonymous": 401}
PATHS = {"sandbox": "/ws/sandboxes/{a}/", "run": "/ws/sandboxes/{a}/runs/{run_a}/"}


def path_of(world, name):
    return PATHS[name].format(a=world.a.pk, run_a=world.run_a.pk)


@pytest.mark.parametrize("auth", ["session", "ticket"])
@pytest.mark.parametrize("stream", PATHS)
@pytest.mark.parametrize("role", ROLES)
def test_only_operators_and_regulators_of_the_sandbox_connect(asgi_server, world, role, stream,
                                                               auth):
    status = refusal(asgi_server, path_of(world, stream), user=world.people[role], auth=auth)
    assert status == EXPECT[role]


def test_experts_are_refused_even_with_a_valid_ticket(asgi_server, world):
    status = refusal(asgi_server, path_of(world, "run"), user=world.people["expert"],
                     auth="ticket")
    assert status == 403


def test_a_run_of_another_sandbox_is_not_found_through_this_sandbox(asgi_server, world):
    foreign = f"/ws/sandboxes/{world.a.pk}/runs/{world.run_b.pk}/"
    assert refusal(asgi_server, foreign, user=world.people["operator"]) == 404
    assert refusal(asgi_server, foreign, user=world.people["other"]) == 404
    own_run_wrong_sandbox = f"/ws/sandboxes/{world.b.pk}/runs/{world.run_a.pk}/"
    assert refusal(asgi_server, own_run_wrong_sandbox, user=world.people["other"]) == 404
    assert refusal(asgi_server, own_run_wrong_sandbox, user=world.people["regulator"]) == 404


def test_missing_and_foreign_sandboxes_answer_alike(asgi_server, world):
    charlie = world.people["other"]
    assert refusal(asgi_server, "/ws/sandboxes/999999/", user=charlie) == 404
    assert refusal(asgi_server, f"/ws/sandboxes/{world.a.pk}/", user=charlie) == 404
    assert refusal(asgi_server, "/ws/nowhere/", user=charlie) == 404


def test_a_foreign_origin_is_refused(asgi_server, world):
    rita = world.people["regulator"]
    path = path_of(world, "sandbox")
    assert refusal(asgi_server, path, user=rita, origin="http://evil.example") == 403
    assert refusal(asgi_server, path, user=rita, origin="null") == 403
    assert refusal(asgi_server, path, user=rita, auth="ticket",
                   origin="https://evil.example") == 403
    assert refusal(asgi_server, path, user=rita, origin="same") == 101


def test_a_session_cookie_without_an_origin_is_not_enough(asgi_server, world):
    """Scripts (no Origin header) must use a ticket; cookies alone are for browsers."""
    assert refusal(asgi_server, path_of(world, "sandbox"), user=world.people["regulator"],
                   origin=None) == 401


def test_a_ticket_works_once(asgi_server, world):
    rita = world.people["regulator"]
    ticket = ticket_for(rita)
    path = path_of(world, "run")
    assert refusal(asgi_server, path, auth="ticket", ticket=ticket) == 101
    assert refusal(asgi_server, path, auth="ticket", ticket=ticket) == 401
    assert WsTicket.objects.get(digest=ticket_digest(ticket)).used_at is not None


def test_an_expired_ticket_is_refused(asgi_server, world):
    rita = world.people["regulator"]
    ticket = ticket_for(rita)
    WsTicket.objects.filter(digest=ticket_digest(ticket)).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert refusal(asgi_server, path_of(world, "run"), auth="ticket", ticket=ticket) == 401


def test_a_made_up_ticket_is_refused(asgi_server, world):
    assert refusal(asgi_server, path_of(world, "run"), auth="ticket", ticket="x" * 43) == 401


def test_a_ticket_is_issued_to_token_holders_only(api, world):
    assert api().post("/api/v1/auth/ws-ticket/").status_code == 401
    response = api(world.people["regulator"]).post("/api/v1/auth/ws-ticket/")
    assert response.status_code == 201
    body = response.json()
    assert body["expires_in"] == 30
    stored = WsTicket.objects.get(digest=ticket_digest(body["ticket"]))
    assert stored.user == world.people["regulator"]
    assert 29 <= (stored.expires_at - stored.created_at).total_seconds() <= 30
    assert body["ticket"] not in str(WsTicket.objects.values_list("digest", flat=True))


def test_a_bad_since_is_refused_with_a_reason(asgi_server, world):
    rita = world.people["regulator"]
    assert refusal(asgi_server, path_of(world, "run"), user=rita, since="soon") == 400
    assert refusal(asgi_server, path_of(world, "sandbox"), user=rita, since="1:x") == 400


@pytest.mark.parametrize("change", ["demoted to expert", "account deactivated"])
def test_a_viewer_demoted_or_deactivated_is_disconnected(asgi_server, world, monkeypatch,
                                                          change):
    from sandbox.live import consumers

    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.3)
    rita = world.people["regulator"]
    with open_ws(asgi_server, path_of(world, "sandbox"), user=rita) as ws:
        if change == "demoted to expert":
            Membership.objects.filter(sandbox=world.a, user=rita).update(role="expert")
        else:
            type(rita).objects.filter(pk=rita.pk).update(is_active=False)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 4403


def test_a_viewer_removed_from_the_sandbox_is_disconnected(asgi_server, world, monkeypatch):
    from sandbox.live import consumers

    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.3)
    rita = world.people["regulator"]
    with open_ws(asgi_server, path_of(world, "sandbox"), user=rita) as ws:
        Membership.objects.filter(sandbox=world.a, user=rita).delete()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 4403
