"""``manage.py validate_scenarios PATH...``: check packs without importing them."""

from django.core.management.base import BaseCommand, CommandError

from scenarios.errors import ScenarioError
from scenarios.loader import load_pack_file


class Command(BaseCommand):
    help = "Validate YAML scenario packs; print every error as file:line: field: message."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+")

    def handle(self, *args, paths, **options):
        failed = 0
        for path in paths:
            try:
                pack = load_pack_file(path)
            except ScenarioError as exc:
                failed += 1
                self.stderr.write(str(exc))
                continue
            except OSError as exc:
                failed += 1
                self.stderr.write(f"{path}:0: cannot read: {exc.strerror}")
                continue
            self.stdout.write(f"{path}: ok — pack {pack.id!r}, {len(pack.scenarios)} scenarios")
        if failed:
            raise CommandError(f"{failed} of {len(paths)} packs have errors")
