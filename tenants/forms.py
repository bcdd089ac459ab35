"""Forms for the web UI. The model's validators and clean() are the rules (the same as the API's);
these forms only shape input (choices, text lists) and limit what a person may pick.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy

from datastores.models import DataStore
from kamaji_ui.forms import FirstErrorPerFieldMixin, TextListField
from kamaji_ui.operators import is_operator
from tenants.authorization import Action, organizations_for
from tenants.models import ServiceType, TenantControlPlane
from tenants.services.lifecycle import CREATE_FIELDS, UPDATE_FIELDS

# Inline validation: each input posts the whole form to the validate endpoint as it is typed
# and swaps in its own error list (see tenants/partials/field.html).
INLINE_VALIDATION_ATTRS = {
    "hx-post": reverse_lazy("tenants:validate"),
    "hx-trigger": "keyup changed delay:300ms, change",
    "hx-include": "closest form",
    "hx-swap": "outerHTML",
}
# Service types as Kubernetes spells them (the model's labels split the words).
SERVICE_TYPE_CHOICES = [(t, t) for t in ServiceType.values]
# Fields whose errors depend on each other (model.clean checks them together).
NETWORK_FIELDS = ("pod_cidr", "service_cidr", "dns_service_ip")


def version_choices(exclude: str | None = None) -> list[tuple[str, str]]:
    return [(v, v) for v in settings.KUBERNETES_VERSIONS if v != exclude]


class InlineValidationMixin:
    """Wire each visible input to the validate endpoint, targeting its own error list."""

    def enable_inline_validation(self) -> None:
        for name, field in self.fields.items():
            field.widget.attrs.update(INLINE_VALIDATION_ATTRS)
            field.widget.attrs["hx-target"] = f"#errors-{self.add_prefix(name)}"


class TenantCreateForm(FirstErrorPerFieldMixin, InlineValidationMixin, forms.ModelForm):
    cert_sans = TextListField(
        required=False, label="Extra certificate SANs",
        help_text="DNS names or IP addresses, one per line or comma-separated.",
    )

    class Meta:
        model = TenantControlPlane
        fields = ("organization", *CREATE_FIELDS)
        labels = {
            "kubernetes_version": "Kubernetes version",
            "service_type": "Service type",
            "port": "API server port",
            "pod_cidr": "Pod network (CIDR)",
            "service_cidr": "Service network (CIDR)",
            "dns_service_ip": "Cluster DNS service IP",
            "addon_coredns": "CoreDNS",
            "addon_kube_proxy": "kube-proxy",
            "addon_konnectivity": "Konnectivity",
        }
        help_texts = {
            "name": "Lower-case letters, digits and '-'; unique in the organisation.",
            "replicas": "API server replicas (1–5); more than one gives a highly available control plane.",
            "dns_service_ip": "Must lie inside the service network.",
        }
        widgets = {
            "kubernetes_version": forms.Select(),
            "replicas": forms.NumberInput(attrs={"min": 1, "max": 5}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        organizations = organizations_for(user, Action.CHANGE)
        self.fields["organization"].queryset = organizations
        self.fields["organization"].empty_label = None
        if not self.is_bound and organizations.count() == 1:
            self.initial.setdefault("organization", organizations.first().pk)
        # A select whose value is still checked by the model's validator (the API's rule).
        self.fields["kubernetes_version"].widget.choices = version_choices()
        self.fields["service_type"].choices = SERVICE_TYPE_CHOICES
        self.fields["name"].widget.attrs.update({"autofocus": True, "autocomplete": "off", "spellcheck": "false"})
        if is_operator(user):
            self.fields["datastore"].queryset = DataStore.objects.filter(enabled=True)
            self.fields["datastore"].empty_label = "Assign automatically"
        else:
            # Placement is the operators' business; everyone else gets automatic assignment.
            del self.fields["datastore"]
        self.enable_inline_validation()

    def service_fields(self) -> dict:
        """Keyword arguments for tenants.services.lifecycle.tenant_create."""
        return {f: self.cleaned_data[f] for f in CREATE_FIELDS if f in self.cleaned_data}

    def summary(self) -> dict:
        """What will be created, from the values as typed (valid or not) for the live summary."""
        values = {name: self[name].value() for name in self.fields}
        organization = self.fields["organization"].queryset.filter(pk=values.get("organization") or None).first()
        datastore = None
        if values.get("datastore"):
            datastore = DataStore.objects.filter(pk=values["datastore"]).first()
        sans = self.fields["cert_sans"].to_python(values.get("cert_sans") or "")
        addons = [label for name, label in (("addon_coredns", "CoreDNS"), ("addon_kube_proxy", "kube-proxy"),
                                            ("addon_konnectivity", "Konnectivity")) if values.get(name)]
        return {
            "organization": organization,
            "name": values.get("name") or "",
            "version": values.get("kubernetes_version"),
            "replicas": values.get("replicas"),
            "service_type": values.get("service_type"),
            "port": values.get("port"),
            "datastore": datastore,
            "uses_kine": datastore.uses_kine if datastore else None,
            "pod_cidr": values.get("pod_cidr"),
            "service_cidr": values.get("service_cidr"),
            "dns_service_ip": values.get("dns_service_ip"),
            "cert_sans": sans,
            "addons": addons,
        }


class TenantEditForm(FirstErrorPerFieldMixin, forms.ModelForm):
    cert_sans = TextListField(
        required=False, label="Extra certificate SANs",
        help_text="DNS names or IP addresses, one per line or comma-separated.",
    )

    class Meta:
        model = TenantControlPlane
        fields = UPDATE_FIELDS
        labels = TenantCreateForm.Meta.labels
        widgets = {"replicas": forms.NumberInput(attrs={"min": 1, "max": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_type"].choices = SERVICE_TYPE_CHOICES

    def service_fields(self) -> dict:
        """Keyword arguments for tenants.services.lifecycle.tenant_update."""
        return {f: self.cleaned_data[f] for f in UPDATE_FIELDS}


class UpgradeForm(forms.Form):
    to_version = forms.ChoiceField(label="Upgrade to", choices=())

    def __init__(self, *args, tenant: TenantControlPlane, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_version"].choices = version_choices(exclude=tenant.kubernetes_version)


class DeleteConfirmForm(forms.Form):
    confirm_name = forms.CharField(
        label="Type the cluster's name to confirm",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, tenant: TenantControlPlane, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["confirm_name"].widget.attrs["placeholder"] = tenant.name

    def clean_confirm_name(self):
        typed = self.cleaned_data["confirm_name"].strip()
        if typed != self.tenant.name:
            raise ValidationError(f"That is not the cluster's name; type {self.tenant.name!r} exactly.")
        return typed
