"""Sign-ins and sign-outs go into the platform's audit chain."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from sandbox.audit.services import audit_record


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs):
    audit_record(sandbox=None, actor=user, action="auth.login", payload={})


@receiver(user_logged_out)
def record_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(sandbox=None, actor=user, action="auth.logout", payload={})
