"""``manage.py reembed``: bring stored vectors over to the embedder configured now.

Searches compare only vectors of the configured embedder (each stored vector
records its embedder's name), so after switching ``EMBEDDINGS_PROVIDER`` or
the model, or after an upgrade that changes the offline embedder, run this
once: it embeds the stored chunks and model answers again from their text.
Interrupted, it loses nothing; run it again to finish.
"""

from django.core.management.base import BaseCommand, CommandError

from domains import knowledge
from domains.embeddings import EmbeddingError


class Command(BaseCommand):
    help = ("Embed again, with the configured embedder, the knowledge chunks and model "
            "answers that another embedder made (search does not see them until then).")

    def add_arguments(self, parser):
        parser.add_argument("--sandbox", type=int, help="only this sandbox (its id)")
        parser.add_argument("--check", action="store_true",
                            help="only count them; exit status 1 when there are any")

    def handle(self, *args, sandbox=None, check=False, **options):
        if check:
            counts = knowledge.stale_counts(sandbox)
            self.stdout.write(f"{counts['chunks']} chunks and {counts['answers']} answers "
                              "embedded by another embedder than the configured one.")
            if counts["chunks"] or counts["answers"]:
                raise SystemExit(1)
            return
        try:
            done = knowledge.reembed(sandbox, progress=self.stdout.write)
        except EmbeddingError as exc:
            raise CommandError(f"the embedding provider failed: {exc}; what was re-embedded "
                               "before stays, run the command again to finish") from None
        self.stdout.write(self.style.SUCCESS(
            f"Re-embedded {done['chunks']} chunks and {done['answers']} answers."))
