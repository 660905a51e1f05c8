"""Pages for scenarios: the sandbox's packs and scenarios, and the import form."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sandbox.core.pages.access import sandbox_for
from sandbox.core.roles import Cap, can
from scenarios.api.views import MAX_PACK_BYTES
from scenarios.errors import ScenarioError
from scenarios.models import Scenario, ScenarioPack
from scenarios.services import pack_import


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("YAML pack"), required=False)
    yaml = forms.CharField(label=gettext_lazy("…or paste the YAML"), required=False,
                           widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}))

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > MAX_PACK_BYTES:
                raise forms.ValidationError(_("The pack is larger than 2 MB."))
            try:
                data["text"], data["filename"] = upload.read().decode("utf-8"), upload.name
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The pack is not UTF-8 text.")) from None
        elif data.get("yaml"):
            data["text"], data["filename"] = data["yaml"], "pasted.yaml"
        else:
            raise forms.ValidationError(_("Choose a YAML file or paste a pack."))
        return data


@login_required
def scenario_list(request, pk):
    sandbox = sandbox_for(request, pk, Cap.MONITOR)
    can_configure = can(sandbox.my_role, Cap.CONFIGURE)
    form, errors = ImportForm(), []
    if request.method == "POST":
        sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                record, counts = pack_import(sandbox=sandbox, text=form.cleaned_data["text"],
                                             filename=form.cleaned_data["filename"],
                                             actor=request.user)
            except ScenarioError as exc:
                errors = exc.errors
            else:
                messages.success(request, _("Imported pack %(pack)s: %(created)s new, "
                                            "%(updated)s updated scenarios.")
                                 % {"pack": record.pack_id, **counts})
                return redirect("scenario-list", sandbox.pk)
    packs = ScenarioPack.objects.filter(sandbox=sandbox).prefetch_related("scenarios")
    return render(request, "scenarios/scenario_list.html", {
        "sandbox": sandbox, "packs": packs, "form": form, "errors": errors,
        "can_configure": can_configure})


@login_required
def scenario_detail(request, pk, scenario_pk):
    sandbox = sandbox_for(request, pk, Cap.MONITOR)
    scenario = get_object_or_404(Scenario, sandbox=sandbox, pk=scenario_pk)
    return render(request, "scenarios/scenario_detail.html", {
        "sandbox": sandbox, "scenario": scenario, "spec": scenario.spec})
