from django import forms
from django.utils.translation import gettext_lazy as _

from sandbox.core.models import Sandbox, SandboxStatus
from sandbox.core.roles import Role
from sandbox.core.services import OPERATOR_STATUSES


class SandboxForm(forms.ModelForm):
    class Meta:
        model = Sandbox
        fields = [
            "name", "vertical", "description", "status",
            "plan_objectives", "plan_timeframe_start", "plan_timeframe_end",
            "plan_methodology", "plan_conditions",
            "max_concurrent_runs", "token_budget", "raters_per_item",
        ]
        widgets = {
            "plan_timeframe_start": forms.DateInput(attrs={"type": "date"}),
            "plan_timeframe_end": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "plan_objectives": forms.Textarea(attrs={"rows": 3}),
            "plan_methodology": forms.Textarea(attrs={"rows": 3}),
            "plan_conditions": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [c for c in SandboxStatus.choices if c[0] in OPERATOR_STATUSES]
        if self.instance.pk and self.instance.status == SandboxStatus.SUSPENDED:
            choices = [c for c in SandboxStatus.choices if c[0] == SandboxStatus.SUSPENDED]
        self.fields["status"].choices = choices


class MemberAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
