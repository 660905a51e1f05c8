"""The demo loader: scripted models from the fixtures and each vertical's knowledge documents."""

from pathlib import Path

import yaml
from django.conf import settings

from domains import knowledge
from domains.demo import load_demo_models
from domains.models import DomainModel, KnowledgeDocument
from domains.script import script_errors, script_reply


def test_demo_loads_the_verticals_models_and_documents_once(alice, sandbox_a):
    lines = load_demo_models(sandbox=sandbox_a, actor=alice)
    fixture = Path(settings.BASE_DIR) / "fixtures" / "scripted_models" / "medical.yaml"
    specs = yaml.safe_load(fixture.read_text(encoding="utf-8"))["models"]
    models = DomainModel.objects.filter(sandbox=sandbox_a)
    assert sorted(m.name for m in models) == sorted(s["name"] for s in specs)
    for model in models:
        assert model.provider == "scripted" and script_errors(model.script) == []
    careful = models.get(name="careful-med")
    assert "120" in script_reply(careful.script, "我爸爸胸口剧痛，喘不上气")
    documents = KnowledgeDocument.objects.filter(sandbox=sandbox_a)
    assert documents.count() == 4
    assert documents.filter(language="zh").exists()
    assert all(d.chunks.exists() for d in documents)
    assert any("knowledge document" in line for line in lines)
    assert load_demo_models(sandbox=sandbox_a, actor=alice) == []  # nothing twice
    hit = knowledge.retrieve(sandbox_a, "how much paracetamol can a child take", 1)[0]
    assert "15 mg per kg" in hit["text"]


def test_every_vertical_has_reference_documents():
    root = Path(settings.BASE_DIR) / "domains"
    for vertical in ("automotive", "medical", "finance"):
        files = sorted((root / vertical / "knowledge").glob("*.md"))
        assert 3 <= len(files) <= 4, vertical
        assert all(f.read_text(encoding="utf-8").startswith("# ") for f in files)
