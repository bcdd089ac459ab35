from django.urls import path

from tenants.views import changes, clusters, kubeconfig

app_name = "tenants"
urlpatterns = [
    path("", clusters.cluster_list, name="list"),
    path("new/", clusters.cluster_create, name="create"),
    path("new/validate/", clusters.cluster_validate, name="validate"),
    path("<int:pk>/", clusters.cluster_detail, name="detail"),
    path("<int:pk>/edit/", changes.cluster_edit, name="edit"),
    path("<int:pk>/upgrade/", changes.cluster_upgrade, name="upgrade"),
    path("<int:pk>/delete/", changes.cluster_delete, name="delete"),
    path("<int:pk>/kubeconfig/", kubeconfig.kubeconfig_download, name="kubeconfig"),
    path("<int:pk>/break-glass-kubeconfig/", kubeconfig.break_glass_kubeconfig, name="break-glass"),
]
