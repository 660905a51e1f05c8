from django.urls import path

from scenarios import pages

urlpatterns = [
    path("sandboxes/<int:pk>/scenarios/", pages.scenario_list, name="scenario-list"),
    path("sandboxes/<int:pk>/scenarios/<int:scenario_pk>/", pages.scenario_detail,
         name="scenario-detail"),
]
