"""Showing a service's ValidationError on a page: on a form's fields, or as flash messages."""

from django.contrib import messages
from django.core.exceptions import ValidationError


def apply_to_form(form, exc: ValidationError) -> None:
    """Attach ``exc``'s errors to ``form``: per field where the form has it, else to the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def flash_errors(request, exc: ValidationError, labels: dict | None = None) -> None:
    """One error message per problem; prefixed with the field's label when ``labels`` has it."""
    if not hasattr(exc, "error_dict"):
        for error in exc.messages:
            messages.error(request, error)
        return
    labels = labels or {}
    for field, errors in exc.message_dict.items():
        for error in errors:
            messages.error(request, f"{labels[field]}: {error}" if field in labels else error)
