"""Small helpers for the ratings tests: filling in a rating for a leased item."""

from __future__ import annotations


def values_for(item: dict, pick=None) -> dict:
    """Valid values for a blind item payload; ``pick(points, key)`` chooses one (default: max)."""
    pick = pick or (lambda points, key: points[-1])
    rubric = item["rubric"]
    if item["kind"] == "pair":
        return {key: pick(list(range(-3, 4)), key) for key in rubric["preference_keys"]}
    return {o["key"]: pick([p["value"] for p in o["points"]], o["key"])
            for o in rubric["objectives"]}


def next_item(client, sandbox):
    response = client.get(f"/api/v1/sandboxes/{sandbox.pk}/rating-queue/next/")
    assert response.status_code in (200, 204), response.content
    return response.json() if response.status_code == 200 else None


def submit(client, sandbox, item, values=None, **extra):
    return client.post(f"/api/v1/sandboxes/{sandbox.pk}/ratings/",
                       {"item": item["id"], "values": values or values_for(item), **extra},
                       format="json")


def rate_everything(client, sandbox, pick=None) -> int:
    """Rate items until the queue is empty; return how many were rated."""
    count = 0
    while (item := next_item(client, sandbox)) is not None:
        response = submit(client, sandbox, item, values_for(item, pick))
        assert response.status_code == 201, response.content
        count += 1
    return count
