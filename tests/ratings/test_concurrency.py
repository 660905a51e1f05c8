"""Many experts asking for items at the same moment never push an item past k experts."""

import threading

import pytest
from django.db import connection

from sandbox.core import services as core
from sandbox.ratings.models import Assignment, RatingItem
from sandbox.ratings.services import assignment_next, rating_items_create_for_run
from tests.conftest import make_user
from tests.ratings.conftest import make_models, make_run


@pytest.mark.django_db(transaction=True)
def test_concurrent_leases_respect_k(alice, sandbox_a):
    sandbox_a.raters_per_item = 2
    sandbox_a.save()
    run = make_run(sandbox_a, make_models(sandbox_a, ["C1", "C2"]),
                   scenarios={"c1": ["q1"], "c2": ["q2"]})
    rating_items_create_for_run(run=run, actor=alice)  # 4 singles + 2 pairs, 12 places
    experts = []
    for i in range(16):
        experts.append(make_user(f"expert{i}"))
        core.membership_add(sandbox=sandbox_a, actor=alice, username=f"expert{i}",
                            role="expert")
    barrier = threading.Barrier(len(experts))
    results, errors = [], []

    def ask(expert):
        try:
            barrier.wait()
            lease = assignment_next(sandbox=sandbox_a, expert=expert)
            results.append(lease.item_id if lease else None)
        except Exception as exc:  # reported below, the test fails on it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(e,)) for e in experts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    leased = [r for r in results if r is not None]
    assert len(leased) == 12  # every place taken once, four experts get nothing
    for item in RatingItem.objects.filter(sandbox=sandbox_a):
        assert Assignment.objects.filter(item=item).count() == 2
