"""Similarity search: the right chunk first, model answers for monitors only, no leaks."""

import re

from domains import knowledge
from domains.models import TurnEmbedding
from tests.domains.conftest import CHEST_PAIN, saved_turn, scripted_model


def search(client, sandbox, q, k=10):
    return client.get(f"/api/v1/sandboxes/{sandbox.pk}/search/", {"q": q, "k": k})


def test_retrieve_puts_the_relevant_chunk_first(alice, sandbox_a, doc_a):
    knowledge.document_add(sandbox=sandbox_a, title="Chest pain", content=CHEST_PAIN,
                           actor=alice)
    hits = knowledge.retrieve(sandbox_a, "chest pain spreading to my jaw, should I drive?", 3)
    assert hits[0]["title"] == "Chest pain"
    assert set(hits[0]) == {"chunk_id", "document_id", "title", "index", "text", "score"}
    assert hits[0]["score"] > hits[1]["score"]
    dose = knowledge.retrieve(sandbox_a, "how many mg per kg for children", 1)
    assert dose[0]["title"] == "Dosing" and "Children" in dose[0]["text"]


def test_retrieve_in_chinese(alice, sandbox_a, doc_a):
    knowledge.document_add(sandbox=sandbox_a, title="胸痛", actor=alice,
                           content="# 胸痛\n胸痛向左臂放射，伴出汗，请立即拨打120急救电话。")
    assert knowledge.retrieve(sandbox_a, "胸口痛要不要打120", 1)[0]["title"] == "胸痛"


def test_search_never_returns_another_sandboxs_chunks_or_answers(
        api, alice, charlie, sandbox_a, sandbox_b, doc_a, doc_b, model_a, model_b):
    """Both sandboxes hold the same document and a near-identical answer."""
    answer = "Adults may take up to 4 g of paracetamol in 24 hours."
    turn_a = saved_turn(model_a, user_message="max paracetamol?", answer=answer)
    turn_b = saved_turn(model_b, user_message="max paracetamol?", answer=answer + " (B)")
    for user, sandbox, own_doc, own_turn in ((alice, sandbox_a, doc_a, turn_a),
                                             (charlie, sandbox_b, doc_b, turn_b)):
        body = search(api(user), sandbox, "paracetamol 4 g in 24 hours").json()
        assert body["chunks"] and {c["document_id"] for c in body["chunks"]} == {own_doc.pk}
        assert [a["turn_id"] for a in body["answers"]] == [own_turn.pk]
    assert search(api(charlie), sandbox_a, "paracetamol").status_code == 404
    assert knowledge.search_answers(sandbox_b, answer, 10)[0]["turn_id"] == turn_b.pk


def test_similar_answers_name_the_model_and_rank_by_similarity(api, rita, alice, sandbox_a,
                                                              model_a):
    other = scripted_model(sandbox_a, alice, name="bold-med")
    close = saved_turn(model_a, user_message="chest pain", answer="Call 120 now, it may be a "
                       "heart attack; do not drive yourself.")
    saved_turn(other, user_message="dose", answer="Ibuprofen 400 mg three times a day.")
    body = search(api(rita), sandbox_a, "heart attack: call 120, don't drive").json()
    assert body["answers"][0]["turn_id"] == close.pk
    assert body["answers"][0]["model"] == "careful-med 1.0"
    assert body["answers"][0]["score"] > body["answers"][1]["score"]


def test_experts_get_chunks_but_never_answers(api, bob, sandbox_a, doc_a, model_a):
    saved_turn(model_a, user_message="dose?", answer="Paracetamol 1 g every 6 hours.")
    body = search(api(bob), sandbox_a, "paracetamol").json()
    assert body["chunks"]
    assert "answers" not in body
    assert b"careful-med" not in search(api(bob), sandbox_a, "paracetamol").content


def test_search_parameters_are_checked(api, alice, sandbox_a):
    client = api(alice)
    assert "q" in client.get(f"/api/v1/sandboxes/{sandbox_a.pk}/search/").json()
    assert "k" in search(client, sandbox_a, "x", k=0).json()
    assert "k" in search(client, sandbox_a, "x", k=51).json()


def test_a_query_or_a_text_of_only_symbols_matches_nothing_and_breaks_no_search(
        api, rita, alice, sandbox_a, doc_a, model_a, monkeypatch):
    """The offline embedder takes no feature from punctuation or emoji: such a text is a
    zero vector, whose cosine distance to anything is NaN (the API answered 500: NaN is not
    JSON). A query of it finds nothing, without a query sent; a stored one is left out."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    knowledge.document_add(sandbox=sandbox_a, title="Thumbs", content="👍 👍 !!!", actor=alice)
    saved_turn(model_a, user_message="ok?", answer="👍")
    saved_turn(model_a, user_message="dose?", answer="Paracetamol 1 g every 6 hours.")
    for exact_up_to in (knowledge.EXACT_UP_TO, 1):  # exact search, then the HNSW index
        monkeypatch.setattr(knowledge, "EXACT_UP_TO", exact_up_to)
        for query in ("???", "👍", "— …"):
            with CaptureQueriesContext(connection) as captured:
                response = search(api(rita), sandbox_a, query)
            assert response.status_code == 200, query
            assert response.json() == {"chunks": [], "answers": []}
            assert not [q for q in captured.captured_queries if "<=>" in q["sql"]]
        body = search(api(rita), sandbox_a, "paracetamol dose").json()
        assert body["chunks"] and "Thumbs" not in {c["title"] for c in body["chunks"]}
        assert [a["text"] for a in body["answers"]] == ["Paracetamol 1 g every 6 hours."]


def test_index_turn_is_idempotent_and_skips_empty_answers(model_a):
    from domains.embeddings import get_embedder

    turn = saved_turn(model_a, user_message="hi", answer="hello there")
    first = knowledge.index_turn(turn)
    turn.assistant_message = "something else entirely"
    again = knowledge.index_turn(turn)
    [stored] = TurnEmbedding.objects.filter(turn=turn)
    assert first.pk == again.pk == stored.pk and not again._state.adding
    assert stored.sandbox_id == turn.sandbox_id
    embedder = get_embedder(turn.sandbox_id)
    assert stored.embedder == embedder.name
    expected = embedder.embed(["something else entirely"])[0]  # the update replaced it
    assert [round(x, 5) for x in stored.embedding] == [round(x, 5) for x in expected]
    turn.assistant_message = ""
    assert knowledge.index_turn(turn) is None
    assert not TurnEmbedding.objects.filter(turn=turn).exists()


def test_index_turn_logs_and_keeps_the_turn_when_the_provider_fails(model_a, settings, caplog):
    settings.EMBEDDINGS = {"provider": "openai", "base_url": "http://127.0.0.1:9/v1",
                           "model": "m", "timeout": 1}
    turn = saved_turn(model_a, user_message="hi", answer="hello there")
    assert not TurnEmbedding.objects.filter(turn=turn).exists()
    assert f"turn {turn.pk} not indexed" in caplog.text


def test_retrieve_only_compares_vectors_of_the_current_embedder(sandbox_a, doc_a, settings):
    assert knowledge.retrieve(sandbox_a, "paracetamol", 5)
    settings.EMBEDDINGS = {"provider": "hashing"}
    doc_a.chunks.update(embedder="openai:other@http://x")
    assert knowledge.retrieve(sandbox_a, "paracetamol", 5) == []



def _index_scan_after_settings(sandbox):
    """Whether index scans (HNSW's) are on for the search ``retrieve`` makes in ``sandbox``."""
    from django.db import connection, transaction

    from domains.models import Chunk

    with transaction.atomic(), connection.cursor() as cursor:
        knowledge._search_settings(cursor, Chunk, sandbox)
        cursor.execute("SELECT current_setting('enable_indexscan'), "
                       "current_setting('hnsw.ef_search')")
        indexscan, ef = cursor.fetchone()
    assert ef == str(knowledge.EF_SEARCH)
    return indexscan == "on"


def test_a_small_sandbox_is_searched_exactly_and_a_large_one_through_the_index(
        alice, sandbox_a, doc_a, monkeypatch):
    assert doc_a.chunks.count() == 2
    assert not _index_scan_after_settings(sandbox_a)  # exact: the sandbox's rows, sorted
    monkeypatch.setattr(knowledge, "EXACT_UP_TO", 1)
    assert _index_scan_after_settings(sandbox_a)
    monkeypatch.setattr(knowledge, "EXACT_UP_TO", 2)
    assert not _index_scan_after_settings(sandbox_a)


def test_retrieve_is_one_round_trip_and_ranks_as_the_orm_query(alice, sandbox_a, doc_a):
    """retrieve()'s hand-written search returns what Chunk.objects.nearest defines, in one
    statement round trip after the settings (the savepoint around it is this test's)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from domains.embeddings import embed_query
    from domains.models import Chunk

    knowledge.document_add(sandbox=sandbox_a, title="Chest pain", content=CHEST_PAIN,
                           actor=alice)
    question = "chest pain spreading to my jaw, how many mg?"
    with CaptureQueriesContext(connection) as captured:
        hits = knowledge.retrieve(sandbox_a, question, 4)
    sent = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(sent) == 1 and "set_config('hnsw.ef_search'" in sent[0]
    embedder, vector = embed_query(question)
    expected = list(Chunk.objects.nearest(sandbox=sandbox_a, embedder=embedder, vector=vector,
                                          k=4).values("id", "document__title", "distance"))
    assert [(h["chunk_id"], h["title"]) for h in hits] == [
        (e["id"], e["document__title"]) for e in expected]
    assert [h["score"] for h in hits] == [round(1 - e["distance"], 6) for e in expected]
    assert len(hits) == Chunk.objects.filter(sandbox=sandbox_a).count() == 3  # k=4, 3 chunks
    assert hits[0]["title"] == "Chest pain"


def _bulk_chunks(sandbox, title: str, texts: list[str]) -> None:
    from domains.embeddings import embed_query
    from domains.models import Chunk, KnowledgeDocument

    document = KnowledgeDocument.objects.create(sandbox=sandbox, title=title, content="-")
    Chunk.objects.bulk_create(
        Chunk(sandbox=sandbox, document=document, index=i, text=text, embedding=vector,
              embedder=embedder)
        for i, (text, (embedder, vector)) in enumerate(zip(texts, map(embed_query, texts),
                                                          strict=True)))


def _minority_and_majority_sandboxes(sandbox_a, sandbox_b, monkeypatch, settings) -> None:
    """12 chunks in sandbox A, 300 in B, every search through the HNSW index at ef_search 5."""
    from django.db import connection

    _bulk_chunks(sandbox_a, "A", [f"brake pads wear check {i}" for i in range(12)])
    _bulk_chunks(sandbox_b, "B", [f"brake fluid service step {i}" for i in range(300)])
    monkeypatch.setattr(knowledge, "EXACT_UP_TO", 1)  # both sandboxes go through the index
    settings.KNOWLEDGE_HNSW_EF_SEARCH = 5  # 5 candidates: hardly any are sandbox A's
    with connection.cursor() as cursor:  # this test's transaction: the HNSW scan, always
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        # A graph of these rows alone: earlier tests' rolled-back rows stay in the index until
        # a vacuum, and a graph crowded with them can end the iterative scan early (the case
        # of the next test, made on purpose there).
        cursor.execute("REINDEX INDEX chunk_embedding_hnsw")


def _iterative_scans(captured) -> list[str]:
    """The ``hnsw.iterative_scan`` of each search captured, in order ('exact' for a search
    with index scans off)."""
    modes = []
    for query in captured.captured_queries:
        if "set_config" in query["sql"]:
            exact = re.search(r"CASE WHEN (\w+) OR", query["sql"])[1].lower() == "true"
            modes.append("exact" if exact else
                          re.search(r"'hnsw\.iterative_scan', '(\w+)'", query["sql"])[1])
    return modes


def test_an_iterative_scan_that_stops_short_is_followed_by_an_exact_search(
        sandbox_a, sandbox_b, monkeypatch, settings):
    """pgvector ends an iterative scan at hnsw.max_scan_tuples (and at its memory bound, or
    early in a graph crowded with rows not yet vacuumed): retrieve() then searches the
    sandbox exactly, so that a sandbox holding k chunks gets k."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _minority_and_majority_sandboxes(sandbox_a, sandbox_b, monkeypatch, settings)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.max_scan_tuples = 1")
    search_chunks = knowledge._search_chunks

    def planner_may_sort_when_exact(sandbox, search, *, iterative, exact=False):
        if exact:  # the setup forbade sorting to force the HNSW scan; a real planner may sort
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = on")
                cursor.execute("SET LOCAL enable_sort = on")
        return search_chunks(sandbox, search, iterative=iterative, exact=exact)

    monkeypatch.setattr(knowledge, "_search_chunks", planner_may_sort_when_exact)
    with CaptureQueriesContext(connection) as captured:
        hits = knowledge.retrieve(sandbox_a, "brake service check", 10)
    assert _iterative_scans(captured) == ["off", "strict_order", "exact"]
    assert len(hits) == 10 and {h["title"] for h in hits} == {"A"}
    from domains.embeddings import embed_query
    from domains.models import Chunk

    embedder, vector = embed_query("brake service check")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
    expected = list(Chunk.objects.nearest(sandbox=sandbox_a, embedder=embedder, vector=vector,
                                          k=10).values_list("id", "distance"))
    assert {h["chunk_id"] for h in hits} == {chunk_id for chunk_id, _ in expected}  # the 10 nearest
    assert [h["score"] for h in hits] == [round(1 - d, 6) for _, d in expected]  # best first


def test_similar_answers_of_a_small_share_of_the_table_end_in_an_exact_search(
        alice, sandbox_a, sandbox_b, model_a, model_b, monkeypatch, settings):
    """search_answers() scans iteratively at once; when pgvector still ends the scan short
    of k, the sandbox's answers are searched exactly."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    mine = {saved_turn(model_a, user_message="brakes?", answer=f"brake pads wear check {i}").pk
            for i in range(12)}
    for i in range(300):
        saved_turn(model_b, user_message="brakes?", answer=f"brake fluid service step {i}")
    monkeypatch.setattr(knowledge, "EXACT_UP_TO", 1)
    settings.KNOWLEDGE_HNSW_EF_SEARCH = 5
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("REINDEX INDEX turn_embedding_hnsw")
        cursor.execute("SET LOCAL hnsw.max_scan_tuples = 1")
    settings_sql = knowledge._search_settings_sql

    def planner_may_sort_when_exact(model, sandbox, *, iterative="strict_order", exact=False):
        sql = settings_sql(model, sandbox, iterative=iterative, exact=exact)
        if exact:  # the setup forbade sorting to force the HNSW scan; a real planner may sort
            sql += (", set_config('enable_sort', 'on', true),"
                    " set_config('enable_seqscan', 'on', true)")
        return sql

    monkeypatch.setattr(knowledge, "_search_settings_sql", planner_may_sort_when_exact)
    with CaptureQueriesContext(connection) as captured:
        hits = knowledge.search_answers(sandbox_a, "brake service check", 10)
    assert _iterative_scans(captured) == ["strict_order", "exact"]
    assert len(hits) == 10 and {h["turn_id"] for h in hits} <= mine
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_a_small_share_of_the_table_gets_k_chunks_through_the_iterative_scan(
        sandbox_a, sandbox_b, monkeypatch, settings):
    """Without the iterative scan, a filtered HNSW search returns fewer than k rows when
    too few of its candidates are the sandbox's; retrieve() then searches again with it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _minority_and_majority_sandboxes(sandbox_a, sandbox_b, monkeypatch, settings)
    with CaptureQueriesContext(connection) as captured:
        hits = knowledge.retrieve(sandbox_a, "brake service check", 10)
    assert _iterative_scans(captured) == ["off", "strict_order"]
    assert "chunk_embedding_hnsw" in _plan(sandbox_a)
    assert len(hits) == 10 and {h["title"] for h in hits} == {"A"}

    # The sandbox that holds most of the table: k rows at once, one search (ef_search must
    # be at least k: the scan returns at most that many candidates).
    settings.KNOWLEDGE_HNSW_EF_SEARCH = 40
    with CaptureQueriesContext(connection) as captured:
        hits = knowledge.retrieve(sandbox_b, "brake service step", 10)
    assert len([q for q in captured.captured_queries if "set_config" in q["sql"]]) == 1
    assert len(hits) == 10 and {h["title"] for h in hits} == {"B"}


def _plan(sandbox) -> str:
    from django.db import connection

    from domains.embeddings import embed_query
    from domains.models import Chunk

    embedder, vector = embed_query("brake service check")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_indexscan', 'on', true)")
    return Chunk.objects.nearest(sandbox=sandbox, embedder=embedder, vector=vector,
                                 k=10).values("id").explain()
