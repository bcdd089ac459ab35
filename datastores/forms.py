"""Operator forms for datastores. Secrets (keys, password) are write-only: never rendered back,
shown masked, and a blank field on edit keeps what is stored."""

from django import forms
from django.core.exceptions import ValidationError

from datastores.models import DataStore
from kamaji_ui.encrypted_fields import masked
from kamaji_ui.forms import FirstErrorPerFieldMixin, TextListField

SECRET_FIELDS = DataStore.SECRET_FIELDS


class DataStoreForm(FirstErrorPerFieldMixin, forms.ModelForm):
    endpoints = TextListField(help_text="host:port or URL, one per line.")
    ca_key = forms.CharField(required=False, label="CA key", widget=forms.Textarea(attrs={"rows": 3}))
    client_key = forms.CharField(required=False, label="Client key", widget=forms.Textarea(attrs={"rows": 3}))
    password = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False))

    class Meta:
        model = DataStore
        fields = ("name", "driver", "endpoints", "ca_certificate", "ca_key", "client_certificate", "client_key",
                  "username", "password", "max_tenants", "enabled", "is_default")
        labels = {"ca_certificate": "CA certificate", "max_tenants": "Max tenants", "is_default": "Default"}
        widgets = {
            "ca_certificate": forms.Textarea(attrs={"rows": 3}),
            "client_certificate": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
            field = self.fields[name]
            field.widget.attrs["autocomplete"] = "off"
            stored = getattr(self.instance, name) if self.instance.pk else ""
            self.initial.pop(name, None)  # never put a stored secret into the page
            if stored:
                field.help_text = f"Stored: {masked(stored)}. Leave blank to keep it."
                self.fields[f"clear_{name}"] = forms.BooleanField(required=False, label=f"Remove stored {field.label}")

    def clean(self):
        cleaned = super().clean()
        for name in SECRET_FIELDS:
            if cleaned.get(f"clear_{name}"):
                if cleaned.get(name):
                    self.add_error(name, ValidationError("Either give a new value or remove the stored one."))
                cleaned[name] = ""
            elif not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)  # blank means keep
        return cleaned

    def changed_for_audit(self) -> list[str]:
        """Names of changed fields (secrets by name only, never their values)."""
        changed = [f for f in self.changed_data if not f.startswith("clear_") and f not in SECRET_FIELDS]
        for name in SECRET_FIELDS:
            if self.cleaned_data.get(f"clear_{name}") or self.data.get(self.add_prefix(name)):
                changed.append(name)
        return changed
