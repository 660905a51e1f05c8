"""``manage.py verify_audit``: recompute the audit trail's hash chains."""

from django.core.management.base import BaseCommand, CommandError

from sandbox.audit.services import verify_all, verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains; exit non-zero at the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--sandbox", type=int, help="verify one sandbox's chain only")

    def handle(self, *args, sandbox=None, **options):
        if sandbox is not None:
            count, broken = verify_chain(sandbox)
            breaks = [broken] if broken else []
        else:
            count, breaks = verify_all()
        if breaks:
            raise CommandError("audit trail is broken: " + "; ".join(str(b) for b in breaks))
        self.stdout.write(self.style.SUCCESS(f"audit trail intact: {count} events verified"))
