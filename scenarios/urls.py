"""Pages of this app (included from sandbox/urls.py)."""

urlpatterns = []
