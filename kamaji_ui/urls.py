from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from kamaji_ui import api_errors

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tenants:list", permanent=False), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clusters/", include("tenants.urls")),
    path("operator/", include("console.urls")),
    path("api/", include("kamaji_ui.api_urls")),
    path("django-admin/", admin.site.urls),
]

handler400 = api_errors.handler400
handler403 = api_errors.handler403
handler404 = api_errors.handler404
handler500 = api_errors.handler500
