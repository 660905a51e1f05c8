"""``manage.py import_scenarios PATH --sandbox ID``: import packs into a sandbox."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sandbox.core.models import Sandbox
from scenarios.errors import ScenarioError
from scenarios.services import pack_import


class Command(BaseCommand):
    help = "Import YAML scenario packs into a sandbox; an invalid pack imports nothing."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+")
        parser.add_argument("--sandbox", type=int, required=True, help="the sandbox's id")

    def handle(self, *args, paths, sandbox, **options):
        target = Sandbox.objects.filter(pk=sandbox).first()
        if target is None:
            raise CommandError(f"no sandbox with id {sandbox}")
        for path in paths:
            try:
                text = Path(path).read_text(encoding="utf-8")
                record, counts = pack_import(sandbox=target, text=text, filename=path,
                                             actor="manage.py import_scenarios")
            except ScenarioError as exc:
                raise CommandError(f"nothing imported from {path}:\n{exc}") from exc
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"{path}:0: cannot read: {exc}") from exc
            self.stdout.write(f"{path}: pack {record.pack_id!r} → {target.name}: "
                              + ", ".join(f"{v} {k}" for k, v in counts.items()))
