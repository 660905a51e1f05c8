"""Demo content of this app: scripted models and knowledge documents per vertical.

Called by ``manage.py load_demo`` for every demo sandbox. It adds what is
missing and leaves the rest alone, so running it twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings

from domains import knowledge, services
from domains.models import DomainModel, KnowledgeDocument, Provider

KNOWLEDGE_ROOT = Path(__file__).resolve().parent


def _scripted_models_file(vertical: str) -> Path:
    return Path(settings.BASE_DIR) / "fixtures" / "scripted_models" / f"{vertical}.yaml"


def _model_specs(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    specs = data.get("models", []) if isinstance(data, dict) else data
    if not isinstance(specs, list):
        raise ValueError(f"{path}: expected a list of models or {{models: [...]}}")
    return specs


def _title(text: str, path: Path) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("-", " ").capitalize()


def load_demo_models(*, sandbox, actor) -> list[str]:
    """Register the vertical's scripted demo models and add its knowledge documents.

    Models come from ``fixtures/scripted_models/<vertical>.yaml`` (rules and the
    default reply go into ``DomainModel.script``), documents from
    ``domains/<vertical>/knowledge/*.md``; chunks and answers that another embedder
    made are embedded again (``knowledge.reembed``). Returns one line per thing loaded.
    """
    lines = []
    path = _scripted_models_file(sandbox.vertical)
    if path.exists():
        for spec in _model_specs(path):
            name, version = spec["name"], str(spec.get("version", ""))
            if DomainModel.objects.filter(sandbox=sandbox, name=name, version=version).exists():
                continue
            services.domain_model_create(
                sandbox=sandbox, actor=actor, name=name, version=version,
                vendor=spec.get("vendor", ""), description=(spec.get("description") or "").strip(),
                provider=Provider.SCRIPTED,
                script={"rules": [{"match": r["match"], "reply": r["reply"].strip()}
                                  for r in spec.get("rules", [])],
                        "default": spec["default"].strip()})
            lines.append(f"scripted model {name} {version}")
    else:
        lines.append(f"no scripted models for {sandbox.vertical} ({path.name} missing)")
    for doc in sorted((KNOWLEDGE_ROOT / sandbox.vertical / "knowledge").glob("*.md")):
        content = doc.read_text(encoding="utf-8")
        title = _title(content, doc)
        if KnowledgeDocument.objects.filter(sandbox=sandbox, title=title).exists():
            continue
        document = knowledge.document_add(sandbox=sandbox, title=title, content=content,
                                          actor=actor)
        lines.append(f"knowledge document “{title}” ({document.chunks.count()} chunks)")
    # Documents loaded before a change of embedder would not be found by search otherwise.
    done = knowledge.reembed(sandbox)
    if done["chunks"] or done["answers"]:
        lines.append(f"re-embedded {done['chunks']} chunks and {done['answers']} answers")
    return lines
