from django import template
from django.urls import reverse

from sandbox.core.nav import sections
from sandbox.core.roles import can

register = template.Library()


@register.inclusion_tag("core/_sandbox_nav.html", takes_context=True)
def sandbox_nav(context, sandbox):
    """Links to the sandbox's sections that the viewer's role may open."""
    request = context.get("request")
    current = request.path if request else ""
    links = [
        {"url": reverse(s.url_name, args=[sandbox.pk]), "label": s.label}
        for s in sections()
        if can(getattr(sandbox, "my_role", None), s.cap, released=sandbox.results_released)
    ]
    overview = reverse("sandbox-detail", args=[sandbox.pk])
    for link in links:
        link["active"] = current.startswith(link["url"])
    return {"sandbox": sandbox, "links": links, "overview": overview,
            "overview_active": current == overview}
