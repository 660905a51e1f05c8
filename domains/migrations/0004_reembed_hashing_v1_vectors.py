"""Re-embed the vectors of the first offline embedder with the current one.

``hashing-ngram-v1`` (character 2-4-grams) gave way to ``hashing-words-v2``
(see domains/embeddings.py). Searches compare only vectors of the configured
embedder, so without this step every document added before the upgrade would
no longer be found. Offline and deterministic: no provider is called. Vectors
of other embedders (OpenAI-compatible models) are left alone; ``manage.py
reembed`` handles those after a change of provider.
"""

from django.db import migrations

OLD = "hashing-ngram-v1"
BATCH = 500


def reembed(apps, schema_editor):
    from domains.embeddings import HashingEmbedder

    embedder = HashingEmbedder()
    Chunk = apps.get_model("domains", "Chunk")
    TurnEmbedding = apps.get_model("domains", "TurnEmbedding")
    KnowledgeDocument = apps.get_model("domains", "KnowledgeDocument")
    for model, text in ((Chunk, lambda row: row.text),
                        (TurnEmbedding, lambda row: row.turn.assistant_message)):
        rows = model.objects.filter(embedder=OLD).order_by("pk")
        if model is TurnEmbedding:
            rows = rows.select_related("turn")
        while batch := list(rows[:BATCH]):
            for row, vector in zip(batch, embedder.embed([text(r) for r in batch]), strict=True):
                row.embedding, row.embedder = vector, embedder.name
            model.objects.bulk_update(batch, ["embedding", "embedder"])
    KnowledgeDocument.objects.filter(embedder=OLD).update(embedder=embedder.name)


class Migration(migrations.Migration):

    dependencies = [
        ('domains', '0003_chunk_index_denser_graph'),
        ('runs', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(reembed, migrations.RunPython.noop),
    ]
