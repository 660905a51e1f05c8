"""Django's ASGI handler with the middleware chain run in one thread, in sync mode.

Our views are synchronous (DRF and the ORM are). Django's stock ASGI handler builds the
middleware chain in async mode, and each ``MiddlewareMixin`` middleware then calls its
``process_request``/``process_response`` through ``sync_to_async``: two hand-offs between
the event loop and a thread per middleware, and one more for the sync-only WhiteNoise and
for the view, for every request. Measured with tests/bench/bench_ratings_next.py, that
cost about a third of the server's CPU per request.

This handler builds the chain in sync mode and runs it, view included, with a single
``sync_to_async`` per request, in the request's thread-sensitive context (so the
request's database connection is the one ``request_finished`` closes). Reading the body,
sending the response and disconnect handling stay Django's async code. An async view, if
one is ever added, still works: the sync chain calls it through ``async_to_sync``.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
