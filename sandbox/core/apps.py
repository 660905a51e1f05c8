from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "sandbox.core"
    label = "core"
    verbose_name = _("Sandboxes")

    def ready(self):
        from sandbox.core import checks  # noqa: F401  (registers the database checks)
        from sandbox.core.runtime import freeze_startup_heap

        # The apps after this one only connect signals; every module their models,
        # views and tasks need (LangChain's included, via procrastinate's task
        # discovery before this app) is imported by now.
        freeze_startup_heap()

