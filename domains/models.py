"""Domain models registered in a sandbox, and the sandbox's knowledge base."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from pgvector.django import HnswIndex, VectorField

EMBEDDING_DIMENSIONS = 384


class Provider(models.TextChoices):
    OPENAI = "openai", _("OpenAI-compatible endpoint")
    OLLAMA = "ollama", _("Ollama")
    SCRIPTED = "scripted", _("Scripted (offline, deterministic)")


class DomainModelQuerySet(models.QuerySet):
    def in_sandbox(self, sandbox):
        return self.filter(sandbox=sandbox)


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
        _("API key environment variable"), max_length=120, blank=True,
        help_text=_("Name of the environment variable that holds the key; the key itself is "
                    "never stored."),
    )
    rag_enabled = models.BooleanField(_("retrieval-augmented"), default=False)
    rag_top_k = models.PositiveSmallIntegerField(_("chunks retrieved"), default=4)
    script = models.JSONField(
        _("script"), default=dict, blank=True,
        help_text=_("For the scripted provider: rules matching the last user message to replies."),
    )
    role = models.CharField(
        _("role"), max_length=20, default="subject",
        choices=[("subject", _("Model under test")), ("judge", _("Judge")),
                 ("helper", _("Helper (paraphrase)"))],
    )
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

    @property
    def label(self) -> str:
        return str(self)


class KnowledgeDocument(models.Model):
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


class Chunk(models.Model):
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="chunks")
    document = models.ForeignKey(KnowledgeDocument, on_delete=models.CASCADE,
                                 related_name="chunks")
    index = models.PositiveIntegerField()
    text = models.TextField()
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)

    class Meta:
        ordering = ["document", "index"]
        indexes = [
            HnswIndex(name="chunk_embedding_hnsw", fields=["embedding"], m=16,
                      ef_construction=64, opclasses=["vector_cosine_ops"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["document", "index"], name="chunk_index_unique"),
        ]

    def __str__(self):
        return f"{self.document} #{self.index}"
