"""Pages: the caller's sandboxes, a sandbox's overview, and the operator's forms."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sandbox.core import services
from sandbox.core.models import Membership, Sandbox
from sandbox.core.pages.access import sandbox_for
from sandbox.core.pages.errors import apply_to_form, flash_errors
from sandbox.core.pages.forms import MemberAddForm, MemberRoleForm, SandboxForm
from sandbox.core.roles import Cap, can


@login_required
def sandbox_list(request):
    sandboxes = Sandbox.objects.visible_to(request.user).order_by("name", "id")
    return render(request, "core/sandbox_list.html", {
        "sandboxes": sandboxes,
        "can_create": request.user.has_perm("core.add_sandbox"),
    })


@login_required
def sandbox_detail(request, pk):
    sandbox = sandbox_for(request, pk)
    members = sandbox.memberships.select_related("user").order_by("role", "user__username")
    return render(request, "core/sandbox_detail.html", {
        "sandbox": sandbox,
        "members": members,
        "can_configure": can(sandbox.my_role, Cap.CONFIGURE),
        "can_monitor": can(sandbox.my_role, Cap.MONITOR),
        "can_oversee": can(sandbox.my_role, Cap.OVERSEE),
        "can_rate": can(sandbox.my_role, Cap.RATE),
        "can_audit": can(sandbox.my_role, Cap.AUDIT),
        "can_results": can(sandbox.my_role, Cap.RESULTS, released=sandbox.results_released),
        "add_form": MemberAddForm(),
    })


@login_required
def sandbox_create(request):
    if not request.user.has_perm("core.add_sandbox"):
        raise PermissionDenied
    form = SandboxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sandbox = services.sandbox_create(created_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_to_form(form, exc)
        else:
            messages.success(request, _("Sandbox created."))
            return redirect(sandbox)
    return render(request, "core/sandbox_form.html", {"form": form, "sandbox": None})


@login_required
def sandbox_edit(request, pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    form = SandboxForm(request.POST or None, instance=Sandbox.objects.get(pk=sandbox.pk))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.fields}
        try:
            services.sandbox_update(sandbox=sandbox, actor=request.user, **fields)
        except ValidationError as exc:
            apply_to_form(form, exc)
        else:
            messages.success(request, _("Sandbox saved."))
            return redirect(sandbox)
    return render(request, "core/sandbox_form.html", {"form": form, "sandbox": sandbox})


@login_required
@require_POST
def member_add(request, pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            services.membership_add(sandbox=sandbox, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Member added."))
    else:
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label}: {error}")
    return redirect(sandbox)


@login_required
@require_POST
def member_role(request, pk, member_pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    membership = get_object_or_404(Membership, pk=member_pk, sandbox=sandbox)
    form = MemberRoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_update(membership=membership, actor=request.user,
                                       role=form.cleaned_data["role"])
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Role changed."))
    return redirect(sandbox)


@login_required
@require_POST
def member_remove(request, pk, member_pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    membership = get_object_or_404(Membership, pk=member_pk, sandbox=sandbox)
    try:
        services.membership_remove(membership=membership, actor=request.user)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Member removed."))
    return redirect(sandbox)
