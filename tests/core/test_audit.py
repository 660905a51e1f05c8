"""The audit trail: every write leaves an event; the database refuses edits; tampering is caught."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from sandbox.audit.models import AuditChainHead, AuditEvent
from sandbox.audit.services import audit_record, verify_chain


def actions(sandbox):
    return list(AuditEvent.objects.chain(sandbox.pk).values_list("action", flat=True))


def test_creating_a_sandbox_and_adding_members_is_audited(sandbox_a):
    assert actions(sandbox_a) == ["sandbox.create", "member.add", "member.add"]
    first = AuditEvent.objects.chain(sandbox_a.pk).first()
    assert first.actor_name == "alice"
    assert first.payload["vertical"] == "medical"


def test_api_writes_are_audited(api, alice, sandbox_a):
    client = api(alice)
    before = AuditEvent.objects.chain(sandbox_a.pk).count()
    assert client.patch(f"/api/v1/sandboxes/{sandbox_a.pk}/", {"description": "new plan"},
                        format="json").status_code == 200
    membership = sandbox_a.memberships.get(user__username="bob")
    assert client.patch(f"/api/v1/sandboxes/{sandbox_a.pk}/members/{membership.pk}/",
                        {"role": "regulator"}, format="json").status_code == 200
    assert client.delete(
        f"/api/v1/sandboxes/{sandbox_a.pk}/members/{membership.pk}/").status_code == 204
    events = list(AuditEvent.objects.chain(sandbox_a.pk))[before:]
    assert [e.action for e in events] == ["sandbox.update", "member.update", "member.remove"]
    assert events[0].payload["changes"]["description"] == ["", "new plan"]
    assert events[1].payload["role"] == ["expert", "regulator"]


def test_each_event_links_to_the_previous_one(sandbox_a):
    events = list(AuditEvent.objects.chain(sandbox_a.pk))
    assert events[0].prev_hash == "0" * 64
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
        assert event.seq == previous.seq + 1
    assert verify_chain(sandbox_a.pk) == (len(events), None)


def test_the_database_refuses_update_and_delete(sandbox_a):
    event = AuditEvent.objects.chain(sandbox_a.pk).first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.action == "sandbox.create"


def _with_trigger_off(sql, params):
    """Run ``sql`` as a database superuser could: with row triggers switched off."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete")


def test_verify_audit_names_the_first_altered_row(sandbox_a):
    events = list(AuditEvent.objects.chain(sandbox_a.pk))
    call_command("verify_audit")  # intact before tampering
    target = events[1]
    _with_trigger_off("UPDATE audit_auditevent SET payload = %s WHERE id = %s",
                      ['{"username": "mallory", "role": "expert"}', target.pk])
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit")
    message = str(caught.value)
    assert f"sandbox {sandbox_a.pk} chain broken at seq {target.seq}" in message
    assert f"event id {target.pk}" in message
    assert "altered" in message


def test_verify_audit_notices_a_removed_row(sandbox_a):
    events = list(AuditEvent.objects.chain(sandbox_a.pk))
    _with_trigger_off("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=f"seq {events[1].seq} is missing"):
        call_command("verify_audit", sandbox=sandbox_a.pk)


def _with_head_trigger_off(sql, params):
    """Change the chain heads as a database superuser could, past their own trigger."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditchainhead DISABLE TRIGGER "
                       "audit_chain_head_forward_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditchainhead ENABLE TRIGGER "
                       "audit_chain_head_forward_only")


def test_the_chain_head_follows_every_append(sandbox_a, alice):
    audit_record(sandbox=sandbox_a, actor=alice, action="test.event")
    last = AuditEvent.objects.chain(sandbox_a.pk).last()
    head = AuditChainHead.objects.get(chain=sandbox_a.pk)
    assert (head.seq, head.hash) == (last.seq, last.hash)
    audit_record(sandbox=None, actor=alice, action="test.platform")
    platform = AuditEvent.objects.chain(None).last()
    assert AuditChainHead.objects.filter(chain=0, seq=platform.seq, hash=platform.hash).exists()


def test_the_database_refuses_to_move_a_chain_head_back_or_delete_it(sandbox_a):
    head = AuditChainHead.objects.get(chain=sandbox_a.pk)
    with pytest.raises(DatabaseError, match="only moves forward"), transaction.atomic():
        AuditChainHead.objects.filter(pk=head.pk).update(seq=head.seq - 1)
    with pytest.raises(DatabaseError, match="DELETE is not allowed"), transaction.atomic():
        AuditChainHead.objects.filter(pk=head.pk).delete()
    assert AuditChainHead.objects.get(pk=head.pk).seq == head.seq


def test_verify_audit_notices_the_newest_events_removed(sandbox_a):
    events = list(AuditEvent.objects.chain(sandbox_a.pk))
    call_command("verify_audit")  # intact before tampering
    _with_trigger_off("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    with pytest.raises(CommandError, match=f"seq {events[-1].seq} is missing: the chain's "
                                           f"head is at seq {events[-1].seq}"):
        call_command("verify_audit", sandbox=sandbox_a.pk)


def test_verify_audit_notices_a_whole_chain_removed(sandbox_a, sandbox_b):
    _with_trigger_off("DELETE FROM audit_auditevent WHERE sandbox_id = %s", [sandbox_b.pk])
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit")
    message = str(caught.value)
    assert f"sandbox {sandbox_b.pk} chain broken at seq 1" in message
    assert f"sandbox {sandbox_a.pk} chain" not in message  # the other chain is intact


def test_verify_audit_notices_a_removed_head_and_events_added_past_it(sandbox_a, alice):
    _with_head_trigger_off("DELETE FROM audit_auditchainhead WHERE chain = %s", [sandbox_a.pk])
    with pytest.raises(CommandError, match="head record is missing"):
        call_command("verify_audit", sandbox=sandbox_a.pk)

    audit_record(sandbox=sandbox_a, actor=alice, action="test.event")  # a new head
    last = AuditEvent.objects.chain(sandbox_a.pk).last()
    _with_head_trigger_off("UPDATE audit_auditchainhead SET seq = %s WHERE chain = %s",
                           [last.seq - 1, sandbox_a.pk])
    with pytest.raises(CommandError, match=f"goes on past its head \\(seq {last.seq - 1}\\)"):
        call_command("verify_audit", sandbox=sandbox_a.pk)


def test_chains_are_separate_per_sandbox(sandbox_a, sandbox_b, alice):
    audit_record(sandbox=sandbox_b, actor=alice, action="test.event")
    assert AuditEvent.objects.chain(sandbox_b.pk).last().seq == 2
    assert actions(sandbox_a)[-1] == "member.add"


def test_login_and_logout_are_audited_in_the_platform_chain(client, alice):
    client.post("/login/", {"username": "alice", "password": "correct-horse-battery"})
    client.post("/logout/")
    assert list(AuditEvent.objects.chain(None).values_list("action", flat=True)) == [
        "auth.login", "auth.logout"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("chain", ["sandbox", "platform"])
def test_concurrent_appends_never_fork_a_chain(sandbox_a, alice, chain):
    """Writers racing to append: each waits for the chain's lock, then reads the head that the
    previous holder committed, so the chain stays one line (no repeated seq, no fork)."""
    import threading
    import time

    sandbox_id = sandbox_a.pk if chain == "sandbox" else None
    before = AuditEvent.objects.chain(sandbox_id).count()
    barrier = threading.Barrier(6)
    errors = []

    def append(number):
        try:
            barrier.wait()
            with transaction.atomic():
                audit_record(sandbox=sandbox_id, actor=alice, action="test.race",
                             payload={"n": number})
                time.sleep(0.03)  # the others queue on the lock meanwhile
        except Exception as exc:  # reported below, the test fails on it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    events = list(AuditEvent.objects.chain(sandbox_id))
    assert [e.seq for e in events] == list(range(1, before + 7))
    assert sorted(e.payload["n"] for e in events[before:]) == list(range(6))
    assert verify_chain(sandbox_id) == (before + 6, None)

