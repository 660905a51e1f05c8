"""REST API routes under /api/v1/ of this app (included from sandbox/urls.py)."""

urlpatterns = []
