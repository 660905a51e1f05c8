"""A sandbox's knowledge base: documents in, similar chunks and similar model answers out.

``document_add`` chunks (``domains.chunking``), embeds (``domains.embeddings``)
and stores a document with its chunks in one transaction. ``retrieve`` is the
RAG lookup the runs engine makes for retrieval-augmented models;
``search_answers`` finds model answers like a query among the sandbox's
transcripts, which ``index_turn`` (called by the engine after a turn is saved)
keeps indexed. Every query is filtered by sandbox: nothing of one sandbox is
ever compared with, or returned to, another.

Vector search uses the HNSW index with ``hnsw.ef_search`` (setting
``KNOWLEDGE_HNSW_EF_SEARCH``, default :data:`EF_SEARCH`) and pgvector's
iterative index scan, so that the sandbox filter still yields ``k`` rows when
other sandboxes hold most of the table (``retrieve`` asks for it only when a
search without it came back short, and searches exactly when that came back
short too); a sandbox of at most :data:`EXACT_UP_TO` vectors is searched
exactly instead. Chunk vectors are stored in half precision (``halfvec``):
the index is half the size, and a search walks it faster.

Every stored vector records the name of the embedder that made it, and
searches compare only vectors of the embedder configured now; ``reembed``
(``manage.py reembed``) brings stored chunks and answers over to it after a
change of provider, model or offline embedder version.
"""

from __future__ import annotations

import functools
import logging
import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from pgvector import HalfVector

from domains.chunking import is_mostly_cjk, split_text
from domains.embeddings import EmbeddingError, embed_query, get_embedder
from domains.models import Chunk, KnowledgeDocument, TurnEmbedding
from sandbox.audit.services import audit_record
from sandbox.sqlbatch import carried_transaction, execute_together

log = logging.getLogger(__name__)

# Candidates the HNSW scan keeps. On 100,000 chunks (tests/bench/bench_knowledge.py, index
# m=32, ef_construction=128, half-precision vectors, an idle two-core machine) 175 meets
# both goals with a margin: recall@10 0.970 at p95 14.9 ms; 150 gave 0.965 at 14.3 ms, 200
# 0.973 at 16.0 ms. Smaller knowledge bases need fewer (0.96 at 100 on 20,000 chunks).
EF_SEARCH = 175
# A sandbox with at most this many vectors is searched exactly (see _search_settings).
EXACT_UP_TO = 2000
MAX_K = 50
REEMBED_BATCH = 256
MAX_DOCUMENT_BYTES = 1_000_000


def max_document_bytes() -> int:
    """The largest document accepted, in UTF-8 bytes (setting ``KNOWLEDGE_MAX_DOCUMENT_BYTES``)."""
    return int(getattr(settings, "KNOWLEDGE_MAX_DOCUMENT_BYTES", MAX_DOCUMENT_BYTES))


UPLOAD_TYPES = {".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown"}


def read_upload(upload) -> dict:
    """Read an uploaded .txt or .md file: ``{title, content, content_type}``.

    The title is the file's name without its suffix. A file of another type,
    over the size limit, or not UTF-8 raises ``ValidationError`` keyed ``file``.
    """
    name = upload.name or ""
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    if suffix not in UPLOAD_TYPES:
        raise ValidationError({"file": [_("Upload a .txt or .md file.")]})
    if upload.size > max_document_bytes():
        raise ValidationError({"file": [_("The file is larger than %(limit)d KB.")
                                        % {"limit": max_document_bytes() // 1000}]})
    try:
        content = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": [_("The file is not UTF-8 text.")]}) from None
    return {"title": name[: -len(suffix)] or name, "content": content,
            "content_type": UPLOAD_TYPES[suffix]}


def _check_document(title: str, content: str) -> None:
    errors = {}
    if not title.strip():
        errors["title"] = [_("Give the document a title.")]
    elif len(title) > 300:
        errors["title"] = [_("A title has at most 300 characters.")]
    if not content.strip():
        errors["content"] = [_("The document is empty.")]
    elif len(content.encode("utf-8")) > max_document_bytes():
        errors["content"] = [_("The document is larger than %(limit)d KB.")
                             % {"limit": max_document_bytes() // 1000}]
    if errors:
        raise ValidationError(errors)


def document_add(*, sandbox, title: str, content: str, actor,
                 content_type: str = "text/markdown") -> KnowledgeDocument:
    """Chunk, embed and store a document of ``sandbox``; return it.

    The document, all its chunks and the audit event are written in one
    transaction: either all exist or none. Embedding happens before the
    transaction opens (a remote provider is not called while rows are locked);
    a provider failure raises :class:`~domains.embeddings.EmbeddingError` and
    stores nothing. A blank title or content, or one over the size limit,
    raises ``ValidationError`` keyed by ``title`` or ``content``.
    """
    title, content = (title or "").strip(), (content or "").replace("\x00", "")
    _check_document(title, content)
    embedder = get_embedder(sandbox)
    texts = split_text(content)
    vectors = embedder.embed(texts)
    return _document_store(sandbox=sandbox, title=title, content=content, actor=actor,
                           content_type=content_type, embedder=embedder.name,
                           texts=texts, vectors=vectors)


@transaction.atomic
def _document_store(*, sandbox, title, content, actor, content_type, embedder, texts,
                    vectors) -> KnowledgeDocument:
    document = KnowledgeDocument.objects.create(
        sandbox=sandbox, title=title, content=content, content_type=content_type,
        language="zh" if is_mostly_cjk(content) else "en", embedder=embedder,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None)
    Chunk.objects.bulk_create([
        Chunk(sandbox=sandbox, document=document, index=i, text=text, embedding=vector,
              embedder=embedder)
        for i, (text, vector) in enumerate(zip(texts, vectors, strict=True))
    ])
    audit_record(sandbox=sandbox, actor=actor, action="document.add", target=document,
                 payload={"title": title, "chunks": len(texts), "characters": len(content),
                          "embedder": embedder})
    return document


@transaction.atomic
def document_delete(*, document: KnowledgeDocument, actor) -> None:
    """Delete a document and its chunks, recording what went."""
    audit_record(sandbox=document.sandbox_id, actor=actor, action="document.delete",
                 target=document, payload={"title": document.title,
                                           "chunks": document.chunks.count()})
    document.delete()


def _search_settings(cursor, model, sandbox, *, exact: bool = False) -> bool:
    """Settings of the search that follows in this transaction, in one round trip.

    The HNSW scan's candidates (``ef_search``) and iterative scan; and, when the
    sandbox holds at most :data:`EXACT_UP_TO` vectors (of any embedder: counted
    on the sandbox index alone, so that the count reads no table row), no index
    scan at all: the sandbox's rows are then read through its own index and
    sorted by distance, an exact search that costs a few milliseconds. Left to
    the planner, a small sandbox got the approximate HNSW scan whenever the
    table's statistics made it look large, and a relevant chunk could rank
    below a less similar one (a test failed so, now and then). ``exact`` turns
    index scans off whatever the size. Returns whether index scans (the HNSW
    scan's) are on.
    """
    cursor.execute(_search_settings_sql(model, sandbox, exact=exact))
    return cursor.fetchone()[2] == "on"


def _search_settings_sql(model, sandbox, *, iterative: str = "strict_order",
                         exact: bool = False) -> str:
    """The statement of :func:`_search_settings`, bound; its row is the settings' new
    values (``ef_search``, ``iterative_scan``, ``enable_indexscan``). ``exact`` turns
    index scans off whatever the sandbox's size."""
    ef = int(getattr(settings, "KNOWLEDGE_HNSW_EF_SEARCH", EF_SEARCH))
    sandbox_id = getattr(sandbox, "pk", sandbox)
    return connection.ops.compose_sql(
        "SELECT set_config('hnsw.ef_search', %s, true), "
        "set_config('hnsw.iterative_scan', %s, true), "
        "set_config('enable_indexscan', CASE WHEN %s OR (SELECT count(*) FROM (SELECT 1 FROM "
        f"{model._meta.db_table} WHERE sandbox_id = %s LIMIT %s) AS few)"
        " <= %s THEN 'off' ELSE 'on' END, true)",
        [str(max(ef, 1)), iterative, exact, sandbox_id, EXACT_UP_TO + 1, EXACT_UP_TO])


def _clamp(k: int) -> int:
    return max(1, min(int(k), MAX_K))


@functools.cache
def _nearest_chunks_sql() -> str:
    """The ``k`` chunks closest to a vector, with their documents' titles (what
    ``Chunk.objects.nearest`` selects, written once: the ORM took ~3 ms of CPU to
    compile it and bind the vector on every call)."""
    qn = connection.ops.quote_name
    return (f"SELECT c.id, c.document_id, d.title, c.{qn('index')}, c.text, "
            "c.embedding <=> %s::halfvec AS distance "
            f"FROM {qn(Chunk._meta.db_table)} c "
            f"JOIN {qn(KnowledgeDocument._meta.db_table)} d ON d.id = c.document_id "
            "WHERE c.sandbox_id = %s AND c.embedder = %s ORDER BY distance LIMIT %s")


def retrieve(sandbox, query: str, k: int = 4) -> list[dict]:
    """The ``k`` chunks of ``sandbox`` most similar to ``query``, best first.

    Each is ``{chunk_id, document_id, title, index, text, score}`` with
    ``score`` the cosine similarity (1 is identical). A blank query gives [].

    One round trip: the search settings and the search travel with the
    transaction's ``BEGIN`` and ``COMMIT`` (``sandbox.sqlbatch``). The runs
    engine retrieves on every turn of a RAG-enabled model, and on 100,000
    chunks the four round trips and the ORM's compiling took a sixth of a
    search (tests/bench/bench_knowledge.py; docs/knowledge-base.md).

    The HNSW scan runs without pgvector's iterative scan first: when k or more
    of its ef_search candidates pass the sandbox filter the rows are the same,
    and the iterative scan's bookkeeping cost a sixth of the search. When fewer
    pass (a sandbox that is a small share of the table) it returns fewer than k
    rows, and the search is made again with the iterative scan, which goes on
    until k pass. The iterative scan may stop short as well (pgvector bounds it
    by ``hnsw.max_scan_tuples`` and ``hnsw.scan_mem_multiplier``, and a graph
    crowded with deleted rows not yet vacuumed ends it early): when it also
    returns fewer than k rows, the sandbox is searched exactly, without the
    index, so a sandbox that holds k chunks always gets k.
    """
    embedded = _embed_query(query, sandbox)
    if embedded is None:
        return []
    embedder, vector = embedded
    sandbox_id = getattr(sandbox, "pk", sandbox)
    k = _clamp(k)
    search = connection.ops.compose_sql(
        _nearest_chunks_sql(), [HalfVector(vector).to_text(), sandbox_id, embedder, k])
    rows, index_scan = _search_chunks(sandbox, search, iterative="off")
    if index_scan and len(rows) < k:
        rows, _ = _search_chunks(sandbox, search, iterative="strict_order")
        if len(rows) < k:
            rows, _ = _search_chunks(sandbox, search, iterative="off", exact=True)
    return [{"chunk_id": chunk_id, "document_id": document_id, "title": title,
             "index": index, "text": text, "score": round(1.0 - distance, 6)}
            for chunk_id, document_id, title, index, text, distance in rows
            if not math.isnan(distance)]


def _embed_query(query: str, sandbox) -> tuple[str, list[float]] | None:
    """The embedder's name and the query's vector, or None when the query has nothing to
    compare: blank, or only what the embedder takes no feature from (punctuation, emoji),
    which the offline embedder turns into a zero vector. A zero vector has no direction,
    so its cosine distance to anything is NaN: such a query matches nothing, and a stored
    zero vector (a chunk or an answer of only such characters) is left out of results."""
    if not (query or "").strip():
        return None
    embedder, vector = embed_query(query, sandbox=sandbox)
    return (embedder, vector) if any(vector) else None


def _search_chunks(sandbox, search: str, *, iterative: str,
                   exact: bool = False) -> tuple[list[tuple], bool]:
    """The rows of ``search`` under the search settings, and whether index scans (the
    HNSW scan's) were on; one round trip."""
    with carried_transaction() as carried:
        results = execute_together([
            *carried.begin,
            _search_settings_sql(Chunk, sandbox, iterative=iterative, exact=exact), search,
            *carried.commit])
    (_ef, _iterative, index_scan), = results[len(carried.begin)]
    return results[len(carried.begin) + 1], index_scan == "on"


def search_answers(sandbox, query: str, k: int = 10) -> list[dict]:
    """The ``k`` model answers in ``sandbox``'s transcripts most similar to ``query``.

    Each is ``{turn_id, run_id, session_id, model_id, model, index, user_message,
    text, score}``. Answers reveal which model gave them: callers show them
    only to members holding ``Cap.MONITOR``. The HNSW scan is iterative at once;
    when it still ends short of ``k`` (see :func:`retrieve`), the sandbox's
    answers are searched exactly.
    """
    embedded = _embed_query(query, sandbox)
    if embedded is None:
        return []
    embedder, vector = embedded
    k = _clamp(k)
    nearest = (TurnEmbedding.objects.nearest(sandbox=sandbox, embedder=embedder, vector=vector,
                                             k=k)
               .select_related("turn", "turn__session__model"))
    with transaction.atomic():
        with connection.cursor() as cursor:
            index_scan = _search_settings(cursor, TurnEmbedding, sandbox)
        rows = list(nearest)
        if index_scan and len(rows) < k:
            with connection.cursor() as cursor:
                _search_settings(cursor, TurnEmbedding, sandbox, exact=True)
            rows = list(nearest.all())
    return [{"turn_id": row.turn_id, "run_id": row.turn.run_id,
             "session_id": row.turn.session_id, "model_id": row.turn.session.model_id,
             "model": row.turn.session.model.label, "index": row.turn.index,
             "user_message": row.turn.user_message, "text": row.turn.assistant_message,
             "score": round(1.0 - row.distance, 6)}
            for row in rows if not math.isnan(row.distance)]


_UPSERT_TURN_EMBEDDING = f"""
    INSERT INTO {TurnEmbedding._meta.db_table} (turn_id, sandbox_id, embedder, embedding)
    VALUES (%s, %s, %s, %s)
    ON CONFLICT (turn_id) DO UPDATE SET sandbox_id = EXCLUDED.sandbox_id,
        embedder = EXCLUDED.embedder, embedding = EXCLUDED.embedding
    RETURNING id
"""


def index_turn(turn) -> TurnEmbedding | None:
    """Embed a saved turn's answer for similar-answer search; idempotent.

    Returns the embedding, or None when the turn has no answer text. The
    index is secondary to the transcript: when the embedding provider fails
    the turn stays saved, the failure is logged with the turn's id, and None
    is returned.
    """
    text = (turn.assistant_message or "").strip()
    if not text:
        TurnEmbedding.objects.filter(turn_id=turn.pk).delete()
        return None
    try:
        embedder = get_embedder(turn.sandbox_id)
        vector = embedder.embed([text])[0]
    except EmbeddingError as exc:
        log.warning("turn %s not indexed for similar-answer search: %s", turn.pk, exc)
        return None
    # One upsert statement, its SQL written once (the engine indexes every answer as it is
    # saved, while the other sessions stream: compiling bulk_create's upsert each time cost
    # more GIL time than the statement's own round trip).
    embedding = TurnEmbedding(turn_id=turn.pk, sandbox_id=turn.sandbox_id,
                              embedder=embedder.name, embedding=vector)
    field = TurnEmbedding._meta.get_field("embedding")
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT_TURN_EMBEDDING, [turn.pk, turn.sandbox_id, embedder.name,
                                                field.get_db_prep_save(vector, connection)])
        embedding.pk = cursor.fetchone()[0]
    embedding._state.adding = False
    embedding._state.db = connection.alias
    return embedding


def _stale(queryset, sandbox_id):
    """Rows of ``sandbox_id`` in ``queryset`` not embedded by the sandbox's embedder now."""
    return queryset.filter(sandbox_id=sandbox_id).exclude(embedder=get_embedder(sandbox_id).name)


def stale_counts(sandbox=None) -> dict[str, int]:
    """How many chunks and model answers search does not see: embedded by another embedder."""
    counts = {"chunks": 0, "answers": 0}
    for sandbox_id in _sandboxes_with_vectors(sandbox):
        counts["chunks"] += _stale(Chunk.objects, sandbox_id).count()
        counts["answers"] += _stale(TurnEmbedding.objects, sandbox_id).count()
    return counts


def _sandboxes_with_vectors(sandbox) -> list[int]:
    if sandbox is not None:
        return [getattr(sandbox, "pk", sandbox)]
    ids = set(Chunk.objects.values_list("sandbox_id", flat=True).distinct())
    ids |= set(TurnEmbedding.objects.values_list("sandbox_id", flat=True).distinct())
    return sorted(ids)


def reembed(sandbox=None, *, batch_size: int = REEMBED_BATCH, progress=None) -> dict[str, int]:
    """Embed again, with the embedder configured now, the chunks and model answers of
    ``sandbox`` (of every sandbox when None) that another embedder made; return the counts.

    Searches only compare vectors of the configured embedder, so after a change of
    provider or model, or a new version of the offline embedder, stored documents and
    answers are not found until this has run; their text is kept, so nothing needs to
    be uploaded again. Each batch is embedded outside any transaction (a remote
    provider is not called while rows are locked) and written in one, so an
    interrupted run loses nothing and the next one carries on. A provider failure
    raises :class:`~domains.embeddings.EmbeddingError`. ``progress`` (optional) is
    called with a line of text per sandbox.
    """
    done = {"chunks": 0, "answers": 0}
    for sandbox_id in _sandboxes_with_vectors(sandbox):
        embedder = get_embedder(sandbox_id)
        chunks = _reembed_rows(_stale(Chunk.objects, sandbox_id).order_by("pk"), embedder,
                               text=lambda chunk: chunk.text, batch_size=batch_size)
        KnowledgeDocument.objects.filter(sandbox_id=sandbox_id).exclude(
            embedder=embedder.name).update(embedder=embedder.name)
        # Answers without text are not indexed (index_turn): drop such rows.
        _stale(TurnEmbedding.objects, sandbox_id).filter(
            turn__assistant_message__regex=r"^\s*$").delete()
        answers = _reembed_rows(
            _stale(TurnEmbedding.objects, sandbox_id).select_related("turn").order_by("pk"),
            embedder, text=lambda row: row.turn.assistant_message.strip(),
            batch_size=batch_size)
        done["chunks"] += chunks
        done["answers"] += answers
        if progress and (chunks or answers):
            progress(f"sandbox {sandbox_id}: {chunks} chunks and {answers} answers "
                     f"re-embedded by {embedder.name}")
    return done


def _reembed_rows(queryset, embedder, *, text, batch_size: int) -> int:
    count, last_pk = 0, 0
    while batch := list(queryset.filter(pk__gt=last_pk)[:batch_size]):
        vectors = embedder.embed([text(row) or " " for row in batch])
        for row, vector in zip(batch, vectors, strict=True):
            row.embedding, row.embedder = vector, embedder.name
        type(batch[0]).objects.bulk_update(batch, ["embedding", "embedder"])  # one transaction
        count += len(batch)
        last_pk = batch[-1].pk
    return count

