"""Writes to the domain-model registry; each leaves an audit event.

The audit payload records field values as configured, which is safe because
no field holds a secret: ``api_key_env`` is only the *name* of a variable.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from domains.models import DomainModel, Provider
from sandbox.audit.services import audit_record

MODEL_FIELDS = (
    "name", "version", "vendor", "description", "provider", "base_url", "model_name",
    "temperature", "max_tokens", "timeout_seconds", "api_key_env", "rag_enabled", "rag_top_k",
    "script", "role", "is_active",
)


class ModelInUse(Exception):
    """The model has runs; it can be deactivated but not deleted."""


def _save(model: DomainModel) -> None:
    model.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            model.save()
    except IntegrityError:
        raise ValidationError({"version": _("This sandbox already has a model with this name "
                                            "and version.")}) from None


def _audit_view(model: DomainModel) -> dict:
    values = {k: getattr(model, k) for k in MODEL_FIELDS}
    values["script"] = {"rules": len(model.script.get("rules", []))} if model.script else {}
    return values


@transaction.atomic
def domain_model_create(*, sandbox, actor, **fields) -> DomainModel:
    """Register a model in ``sandbox``; invalid fields raise ValidationError keyed by field."""
    unknown = set(fields) - set(MODEL_FIELDS)
    if unknown:
        raise ValidationError({k: _("This field cannot be set.") for k in unknown})
    model = DomainModel(sandbox=sandbox, **fields)
    _save(model)
    audit_record(sandbox=sandbox, actor=actor, action="model.create", target=model,
                 payload=_audit_view(model))
    return model


@transaction.atomic
def domain_model_update(*, model: DomainModel, actor, **fields) -> DomainModel:
    """Change a model's configuration; the audit event lists what changed.

    Moving a scripted model to another provider without sending a script drops
    its script (only scripted models have one).
    """
    model = DomainModel.objects.select_for_update().get(pk=model.pk)
    if fields.get("provider", Provider.SCRIPTED) != Provider.SCRIPTED and "script" not in fields:
        fields["script"] = {}
    before = _audit_view(model)
    for key, value in fields.items():
        if key not in MODEL_FIELDS:
            raise ValidationError({key: _("This field cannot be changed.")})
        setattr(model, key, value)
    _save(model)
    after = _audit_view(model)
    audit_record(sandbox=model.sandbox_id, actor=actor, action="model.update", target=model,
                 payload={"changes": {k: [before[k], after[k]] for k in after
                                      if before[k] != after[k]}})
    return model


@transaction.atomic
def domain_model_delete(*, model: DomainModel, actor) -> None:
    """Delete a model that has never been run; raise :class:`ModelInUse` otherwise."""
    audit_record(sandbox=model.sandbox_id, actor=actor, action="model.delete", target=model,
                 payload={"name": model.name, "version": model.version})
    try:
        with transaction.atomic():
            model.delete()
    except ProtectedError:
        raise ModelInUse(_("This model has runs and cannot be deleted; deactivate it "
                           "instead.")) from None


def domain_model_test_connection(*, model: DomainModel, actor) -> dict:
    """Ask the model for a short answer through the LangChain adapter and record the outcome.

    Returns ``{"ok", "latency_ms", "error", "sample"}`` as ``domains.llm.test_connection``
    gives it. The call is made outside any transaction; the audit event follows it.
    """
    from domains import llm

    result = async_to_sync(llm.test_connection)(model)
    audit_record(sandbox=model.sandbox_id, actor=actor, action="model.test_connection",
                 target=model, payload={"ok": bool(result.get("ok")),
                                        "latency_ms": result.get("latency_ms"),
                                        "error": (result.get("error") or "")[:500]})
    return result


PARAPHRASE_PROMPT = (
    "Paraphrase the user's message below so that it asks for exactly the same thing in "
    "different words, in the same language. Reply with the paraphrase only.\n\n"
    "Message:\n{text}"
)


def paraphraser_for(sandbox):
    """A sync paraphrase function backed by the sandbox's active helper model, or None.

    PromptBench's semantic-level perturbation needs a model; without a helper
    model the ``perturb_semantic`` probe is skipped with that reason. Runs
    (``sandbox.runs.services.run_start``) and the variant preview
    (``GET …/scenarios/{id}/variants/``) both use it, so the preview shows what a
    run would play.
    """
    helper = DomainModel.objects.filter(sandbox=sandbox, role="helper", is_active=True).first()
    if helper is None:
        return None

    def paraphrase(text: str) -> str:
        from domains.llm import acomplete

        reply = async_to_sync(acomplete)(
            helper, [{"role": "user", "content": PARAPHRASE_PROMPT.format(text=text)}])
        return reply.strip() or text

    return paraphrase
