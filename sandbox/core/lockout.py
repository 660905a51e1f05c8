"""What a locked-out sign-in gets (django-axes): JSON for the API, a page for browsers."""

from django.http import JsonResponse
from django.shortcuts import render


def lockout_response(request, response=None, credentials=None, *args, **kwargs):
    message = ("Too many failed sign-in attempts for this username from this address; "
               "try again in an hour.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "registration/locked_out.html", status=429)
