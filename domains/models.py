"""Domain models registered in a sandbox, and the sandbox's knowledge base."""

import os
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from pgvector.django import CosineDistance, HalfVectorField, HnswIndex, VectorField

from domains.script import script_errors

EMBEDDING_DIMENSIONS = 384

# The name of an environment variable, never a key: a key would carry "-", "." or similar.
env_var_name = RegexValidator(
    r"^[A-Za-z_][A-Za-z0-9_]*\Z",
    _("Give the name of an environment variable (letters, digits and underscores, not "
      "starting with a digit), not the key itself."),
)


class Provider(models.TextChoices):
    OPENAI = "openai", _("OpenAI-compatible endpoint")
    OLLAMA = "ollama", _("Ollama")
    SCRIPTED = "scripted", _("Scripted (offline, deterministic)")


class ModelRole(models.TextChoices):
    SUBJECT = "subject", _("Model under test")
    JUDGE = "judge", _("Judge")
    HELPER = "helper", _("Helper (paraphrase)")


class DomainModelQuerySet(models.QuerySet):
    def in_sandbox(self, sandbox):
        return self.filter(sandbox=sandbox)

    def active(self):
        return self.filter(is_active=True)


class DomainModel(models.Model):
    """A model under test: a small model card plus how to reach it.

    The API key is never stored: ``api_key_env`` names the environment
    variable that holds it on the machines that run the jobs.
    """

    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="models")
    name = models.CharField(_("name"), max_length=120)
    version = models.CharField(_("version"), max_length=60, blank=True)
    vendor = models.CharField(_("vendor"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    base_url = models.URLField(_("base URL"), blank=True, max_length=500)
    model_name = models.CharField(_("model name"), max_length=200, blank=True)
    temperature = models.FloatField(_("temperature"), default=0.0)
    max_tokens = models.PositiveIntegerField(_("max tokens"), default=512)
    timeout_seconds = models.FloatField(_("timeout (seconds)"), default=60.0)
    api_key_env = models.CharField(
        _("API key environment variable"), max_length=120, blank=True, validators=[env_var_name],
        help_text=_("Name of the environment variable that holds the key; the key itself is "
                    "never stored."),
    )
    rag_enabled = models.BooleanField(_("retrieval-augmented"), default=False)
    rag_top_k = models.PositiveSmallIntegerField(_("chunks retrieved"), default=4)
    script = models.JSONField(
        _("script"), default=dict, blank=True,
        help_text=_("For the scripted provider: rules matching the last user message to replies."),
    )
    role = models.CharField(_("role"), max_length=20, default=ModelRole.SUBJECT,
                            choices=ModelRole.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DomainModelQuerySet.as_manager()

    class Meta:
        ordering = ["sandbox", "name", "version"]
        verbose_name = _("domain model")
        verbose_name_plural = _("domain models")
        constraints = [
            models.UniqueConstraint(fields=["sandbox", "name", "version"],
                                    name="model_name_version_unique_in_sandbox"),
        ]

    def __str__(self):
        return f"{self.name} {self.version}".strip()

    def clean(self):
        """Check the fields the provider needs; errors are keyed by the field at fault."""
        errors: dict[str, list] = {}

        def add(field, message):
            errors.setdefault(field, []).append(message)

        if self.provider == Provider.OPENAI:
            if not self.base_url:
                add("base_url", _("An OpenAI-compatible model needs its endpoint's base URL."))
            if not self.model_name:
                add("model_name", _("Give the model's name as the endpoint knows it."))
        elif self.provider == Provider.OLLAMA:
            if not self.model_name:
                add("model_name", _("Give the Ollama model's name, e.g. qwen2.5:7b."))
        if self.base_url and urlsplit(self.base_url).scheme not in ("http", "https"):
            add("base_url", _("The base URL must start with http:// or https://."))
        if self.provider == Provider.SCRIPTED:
            if not self.script:
                add("script", _("A scripted model needs a script: rules and a default reply."))
            else:
                for problem in script_errors(self.script):
                    add("script", problem)
        elif self.script:
            add("script", _("Only scripted models take a script; empty it for this provider."))
        if not 0 <= self.temperature <= 2:
            add("temperature", _("Temperature must be between 0 and 2."))
        if not 1 <= self.max_tokens <= 32768:
            add("max_tokens", _("Max tokens must be between 1 and 32768."))
        if not 0 < self.timeout_seconds <= 600:
            add("timeout_seconds", _("The timeout must be more than 0 and at most 600 seconds."))
        if not 1 <= self.rag_top_k <= 20:
            add("rag_top_k", _("Retrieve between 1 and 20 chunks."))
        if errors:
            raise ValidationError(errors)

    @property
    def label(self) -> str:
        return str(self)

    @property
    def api_key_present(self) -> bool:
        """Whether the environment variable named by ``api_key_env`` is set here (the key
        itself is never read into anything that is stored or returned)."""
        return bool(self.api_key_env) and bool(os.environ.get(self.api_key_env))


class KnowledgeDocument(models.Model):
    """A reference text of one sandbox, split into embedded :class:`Chunk` rows."""

    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE,
                                related_name="documents")
    title = models.CharField(_("title"), max_length=300)
    content = models.TextField(_("content"))
    content_type = models.CharField(max_length=40, default="text/markdown")
    language = models.CharField(max_length=10, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    embedder = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sandbox", "title"]
        verbose_name = _("knowledge document")
        verbose_name_plural = _("knowledge documents")

    def __str__(self):
        return self.title


class ChunkQuerySet(models.QuerySet):
    def nearest(self, *, sandbox, embedder: str, vector, k: int):
        """The ``k`` chunks of ``sandbox`` closest (cosine) to ``vector``, with ``distance``.

        Only chunks embedded by ``embedder`` are compared: other embedders' vectors
        live in another space.
        """
        return (self.filter(sandbox=sandbox, embedder=embedder)
                .annotate(distance=CosineDistance("embedding", vector))
                .order_by("distance")[:k])


class Chunk(models.Model):
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="chunks")
    document = models.ForeignKey(KnowledgeDocument, on_delete=models.CASCADE,
                                 related_name="chunks")
    index = models.PositiveIntegerField()
    text = models.TextField()
    # Half precision (2 bytes a dimension): a search is bound by the index pages it walks,
    # and halving the vectors halves the index (243 to 156 MB at 100,000 chunks). Measured
    # query by query against the single-precision index on the same 100,000 chunks (ef_search
    # 175): p50 11.6 against 13.5 ms, p95 14.9 against 16.9 ms, recall@10 0.959 against
    # 0.956 (docs/knowledge-base.md). Embeddings carry nothing in the digits lost.
    embedding = HalfVectorField(dimensions=EMBEDDING_DIMENSIONS)
    embedder = models.CharField(max_length=120, blank=True)

    objects = ChunkQuerySet.as_manager()

    class Meta:
        ordering = ["document", "index"]
        indexes = [
            # m=32, ef_construction=128 rather than pgvector's 16/64: on hashing embeddings the
            # denser graph raised recall@10 at ef_search=100 from 0.68 to 0.88 on 20k chunks
            # (tests/bench/bench_knowledge.py; 100k figures in docs/knowledge-base.md). With
            # word-level hashing (embedder v2) on 100k chunks: m=16 reached only 0.90 at
            # ef_search=400; ef_construction=256 gained 0.005-0.01 at equal ef_search for
            # twice the build time; m=48 gained more per ef_search but no recall at equal
            # latency.
            HnswIndex(name="chunk_embedding_hnsw", fields=["embedding"], m=32,
                      ef_construction=128, opclasses=["halfvec_cosine_ops"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["document", "index"], name="chunk_index_unique"),
        ]

    def __str__(self):
        return f"{self.document} #{self.index}"


class TurnEmbeddingQuerySet(models.QuerySet):
    def nearest(self, *, sandbox, embedder: str, vector, k: int):
        """The ``k`` model answers of ``sandbox`` closest (cosine) to ``vector``."""
        return (self.filter(sandbox=sandbox, embedder=embedder)
                .annotate(distance=CosineDistance("embedding", vector))
                .order_by("distance")[:k])


class TurnEmbedding(models.Model):
    """The embedding of one turn's model answer, for "similar answers" search."""

    turn = models.OneToOneField("runs.Turn", on_delete=models.CASCADE, related_name="embedding")
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="+")
    embedder = models.CharField(max_length=120)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)

    objects = TurnEmbeddingQuerySet.as_manager()

    class Meta:
        indexes = [
            HnswIndex(name="turn_embedding_hnsw", fields=["embedding"], m=16,
                      ef_construction=64, opclasses=["vector_cosine_ops"]),
        ]

    def __str__(self):
        return f"embedding of turn {self.turn_id}"
