"""``manage.py live_synthetic``: start synthetic streams of existing sessions in the workers.

Defers one ``live.synthetic_stream`` job per session. In the embedded default
the in-process worker of ``manage.py serve`` runs them, so the streams are
published inside the server's process; with ``REDIS_URL`` a separate worker
(``manage.py procrastinate worker``) runs them. Used by tests/bench/bench_live.py.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from sandbox.runs.models import Session


class Command(BaseCommand):
    help = "Defer synthetic live streams (load generation) for the given sessions."

    def add_arguments(self, parser):
        parser.add_argument("sessions", nargs="+", type=int, help="session ids")
        parser.add_argument("--turns", type=int, default=1)
        parser.add_argument("--tokens", type=int, default=40, help="tokens per turn")
        parser.add_argument("--rate", type=float, default=20.0, help="tokens per second")
        parser.add_argument("--delay", type=float, default=2.0,
                            help="seconds from now until every stream starts together")
        parser.add_argument("--stamp", action="store_true",
                            help="tokens carry their production time (latency measurement)")

    def handle(self, *args, sessions, turns, tokens, rate, delay, stamp, **options):
        from sandbox.live.tasks import synthetic_stream_job

        found = set(Session.objects.filter(pk__in=sessions).values_list("pk", flat=True))
        missing = sorted(set(sessions) - found)
        if missing:
            raise CommandError(f"no session with id {', '.join(map(str, missing))}")
        start_at = time.time() + delay
        for session_id in sessions:
            synthetic_stream_job.defer(session_id=session_id, turns=turns, tokens=tokens,
                                       rate=rate, start_at=start_at, stamp=stamp)
        self.stdout.write(f"{len(sessions)} synthetic streams start at {start_at:.3f}")
