"""ASGI entry point: HTTP through Django, websockets through Channels."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
django.setup(set_prefix=False)

from sandbox.core.asgi_handler import SyncChainASGIHandler  # noqa: E402

# Django's ASGIHandler, with the middleware chain run in one thread (see the module).
django_asgi_app = SyncChainASGIHandler()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from sandbox.live.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": websocket_application,
})
