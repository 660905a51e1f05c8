"""Websocket routes: the live streams of a sandbox and of one run (see docs/live-protocol.md).

Channels' session middleware identifies browsers; scripts bring a one-time
ticket instead, and the origin is checked, in :mod:`sandbox.live.ws_access`.
"""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path, re_path

from sandbox.live.consumers import RunStream, SandboxStream, not_found

websocket_urlpatterns = [
    path("ws/sandboxes/<int:sandbox_id>/", SandboxStream.as_asgi(), name="ws-sandbox"),
    path("ws/sandboxes/<int:sandbox_id>/runs/<int:run_id>/", RunStream.as_asgi(),
         name="ws-run"),
    re_path(r"", not_found),
]

websocket_application = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
