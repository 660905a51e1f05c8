import yaml
from django import forms
from django.utils.translation import gettext_lazy as _

from domains.models import DomainModel, Provider

# Fields grouped as the form shows them; ``providers`` lists who needs a group (None: all).
FIELD_GROUPS = [
    (_("Model card"), None, ["name", "version", "vendor", "description", "role", "is_active"]),
    (_("Provider"), None, ["provider"]),
    (_("Endpoint"), "openai ollama", ["base_url", "model_name", "api_key_env"]),
    (_("Generation"), "openai ollama", ["temperature", "max_tokens", "timeout_seconds"]),
    (_("Script"), "scripted", ["script"]),
    (_("Retrieval"), None, ["rag_enabled", "rag_top_k"]),
]


class DomainModelForm(forms.ModelForm):
    """The registry form; the script is edited as YAML (``rules`` and ``default``)."""

    script = forms.CharField(
        label=_("Script"), required=False, widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("YAML: “rules” (a list of match/reply, match being a regular expression) "
                    "and “default”."))

    class Meta:
        model = DomainModel
        fields = [name for _label, _providers, names in FIELD_GROUPS for name in names]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}),
                   "base_url": forms.URLInput(attrs={"placeholder": "http://127.0.0.1:8001/v1"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.script and not self.is_bound:
            self.initial["script"] = yaml.safe_dump(self.instance.script, allow_unicode=True,
                                                    sort_keys=False)

    def clean_script(self):
        text = self.cleaned_data.get("script") or ""
        if not text.strip():
            return {}
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark else ""
            raise forms.ValidationError(_("The script is not valid YAML%(where)s.")
                                        % {"where": where}) from None
        return value if value is not None else {}

    def clean(self):
        cleaned = super().clean()
        # The script group is hidden for other providers: what it still holds is not sent.
        if cleaned.get("provider") != Provider.SCRIPTED:
            cleaned["script"] = {}
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        if "api_key_env" in self.errors:
            # What was refused may be a pasted key: do not render it back into the page.
            self.data = self.data.copy()
            self.data["api_key_env"] = ""

    def groups(self):
        return [{"label": label, "providers": providers or "", "fields": [self[n] for n in names]}
                for label, providers, names in FIELD_GROUPS]


class DocumentUploadForm(forms.Form):
    file = forms.FileField(label=_("Text or Markdown file (.txt, .md, UTF-8)"))
    title = forms.CharField(label=_("Title (optional)"), required=False, max_length=300)


class DocumentPasteForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    content = forms.CharField(label=_("Text or Markdown"), widget=forms.Textarea(attrs={"rows": 8}),
                              strip=False)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=2000)
