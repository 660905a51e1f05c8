from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingsConfig(AppConfig):
    name = "sandbox.ratings"
    label = "ratings"
    verbose_name = _("Ratings")

    def ready(self):
        from sandbox.core.nav import register_section
        from sandbox.core.roles import Cap

        register_section("ratings-rate", _("Rate"), Cap.RATE, order=40)
        register_section("ratings-setup", _("Rating setup"), Cap.CONFIGURE, order=45)
        register_section("ratings-results", _("Results"), Cap.RESULTS, order=50)
