"""/api/audit/ (names under "audit-api:")."""

from django.urls import path

from console.api.views import AuditEventListView

app_name = "audit-api"
urlpatterns = [
    path("audit/", AuditEventListView.as_view(), name="event-list"),
]
