"""Re-embedding: vectors another embedder made are brought over, so search finds them again."""

import importlib

import pytest
from django.apps import apps
from django.core.management import call_command

from domains import knowledge
from domains.embeddings import HashingEmbedder, hashing_vector
from domains.models import Chunk, KnowledgeDocument, TurnEmbedding
from tests.domains.conftest import saved_turn

CURRENT = HashingEmbedder().name


def make_stale(name, *documents, vector=None):
    """Pretend another embedder made the documents' chunks (and every answer)."""
    for document in documents:
        document.chunks.update(embedder=name, **({"embedding": vector} if vector else {}))
        KnowledgeDocument.objects.filter(pk=document.pk).update(embedder=name)
    TurnEmbedding.objects.update(embedder=name, **({"embedding": vector} if vector else {}))


def test_reembed_brings_chunks_and_answers_back_to_search(sandbox_a, sandbox_b, doc_a, doc_b,
                                                         model_a):
    turn = saved_turn(model_a, user_message="dose?", answer="Paracetamol 1 g every 6 hours.")
    make_stale("openai:old-model@http://x", doc_a, doc_b, vector=[1.0] + [0.0] * 383)
    assert knowledge.retrieve(sandbox_a, "paracetamol", 5) == []
    assert knowledge.stale_counts() == {"chunks": 4, "answers": 1}

    lines = []
    assert knowledge.reembed(sandbox_a, progress=lines.append) == {"chunks": 2, "answers": 1}
    assert lines == [f"sandbox {sandbox_a.pk}: 2 chunks and 1 answers re-embedded by {CURRENT}"]
    assert knowledge.retrieve(sandbox_a, "how many mg per kg for children", 1)[0]["index"] == 1
    assert knowledge.search_answers(sandbox_a, "paracetamol", 1)[0]["turn_id"] == turn.pk
    for chunk in Chunk.objects.filter(document=doc_a):
        assert chunk.embedder == CURRENT
        # Chunks store half precision: 11 significant bits, a relative error below 2**-11.
        assert list(chunk.embedding) == pytest.approx(hashing_vector(chunk.text).tolist(),
                                                      rel=2**-11, abs=1e-6)
    doc_a.refresh_from_db()
    assert doc_a.embedder == CURRENT
    # The other sandbox is untouched until it is asked for (or all are).
    assert knowledge.stale_counts(sandbox_b) == {"chunks": 2, "answers": 0}
    assert knowledge.reembed() == {"chunks": 2, "answers": 0}
    assert knowledge.stale_counts() == {"chunks": 0, "answers": 0}
    assert knowledge.reembed() == {"chunks": 0, "answers": 0}


def test_reembed_command_checks_and_re_embeds(sandbox_a, doc_a, capsys):
    make_stale("hashing-ngram-v1", doc_a)
    with pytest.raises(SystemExit) as exit_status:
        call_command("reembed", "--check")
    assert exit_status.value.code == 1
    call_command("reembed", "--sandbox", str(sandbox_a.pk))
    assert "Re-embedded 2 chunks and 0 answers." in capsys.readouterr().out
    call_command("reembed", "--check")  # nothing stale: exit status 0


def test_the_migration_re_embeds_vectors_of_the_first_offline_embedder(sandbox_a, doc_a,
                                                                      model_a):
    turn = saved_turn(model_a, user_message="dose?", answer="Paracetamol 1 g every 6 hours.")
    make_stale("hashing-ngram-v1", doc_a, vector=[1.0] + [0.0] * 383)
    other = "openai:nomic-embed-text@http://127.0.0.1:11434/v1"
    KnowledgeDocument.objects.create(sandbox=sandbox_a, title="Other", content="x",
                                     embedder=other)
    migration = importlib.import_module("domains.migrations.0004_reembed_hashing_v1_vectors")
    migration.reembed(apps, None)
    assert knowledge.retrieve(sandbox_a, "how many mg per kg for children", 1)[0]["index"] == 1
    assert knowledge.search_answers(sandbox_a, "paracetamol", 1)[0]["turn_id"] == turn.pk
    assert set(KnowledgeDocument.objects.values_list("embedder", flat=True)) == {CURRENT, other}
