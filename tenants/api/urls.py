"""/api/clusters/…, /api/upgrades/, /api/organizations/, /api/token/ (names under "tenants-api:")."""

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import SimpleRouter

from tenants.api import views

app_name = "tenants-api"

router = SimpleRouter()
router.register("clusters", views.ClusterViewSet, basename="cluster")
router.register("upgrades", views.UpgradeViewSet, basename="upgrade")

urlpatterns = [
    path("token/", obtain_auth_token, name="token"),
    path("organizations/", views.OrganizationListView.as_view(), name="organization-list"),
    *router.urls,
]
