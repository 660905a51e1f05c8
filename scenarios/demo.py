"""Demo content: each demo sandbox gets its vertical's scenario packs and question banks."""

from pathlib import Path

from django.conf import settings

from scenarios.services import pack_import


def load_demo_scenarios(*, sandbox, actor) -> list[str]:
    folder = Path(settings.BASE_DIR) / "fixtures" / "scenarios"
    lines = []
    for path in sorted(folder.glob(f"{sandbox.vertical}*.yaml")):
        record, counts = pack_import(sandbox=sandbox, text=path.read_text(encoding="utf-8"),
                                     filename=f"fixtures/scenarios/{path.name}", actor=actor)
        lines.append(f"scenario pack {record.pack_id}: {counts['created']} new, "
                     f"{counts['updated']} updated")
    return lines
