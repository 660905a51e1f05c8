"""The audit trail as JSON Lines: one event per line, each with its hash, in chain order.

A reader can recompute every hash from the lines alone (SHA-256 over the
canonical JSON of all fields but ``hash``; see ``AuditEvent.compute_hash``).
"""

import json

from django.core.serializers.json import DjangoJSONEncoder

from sandbox.audit.models import AuditEvent


def jsonl_lines(sandbox_id: int):
    """Yield the chain of ``sandbox_id`` as JSONL lines (streamed, never all in memory)."""
    for event in AuditEvent.objects.chain(sandbox_id).iterator(chunk_size=2000):
        yield json.dumps(event.as_export(), cls=DjangoJSONEncoder, ensure_ascii=False,
                         sort_keys=True) + "\n"


def export_filename(sandbox) -> str:
    return f"audit-sandbox-{sandbox.pk}.jsonl"
