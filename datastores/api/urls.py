"""/api/datastores/… (names under "datastores-api:"); operators only."""

from rest_framework.routers import SimpleRouter

from datastores.api.views import DataStoreViewSet

app_name = "datastores-api"

router = SimpleRouter()
router.register("datastores", DataStoreViewSet, basename="datastore")

urlpatterns = router.urls
