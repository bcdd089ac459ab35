from django.urls import path

from console import views

app_name = "console"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("audit/", views.audit_log, name="audit"),
    path("datastores/new/", views.datastore_edit, name="datastore-create"),
    path("datastores/<int:pk>/edit/", views.datastore_edit, name="datastore-edit"),
]
