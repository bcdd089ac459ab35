"""Settings read from the environment; with nothing set, the embedded default runs.

Embedded default: SQLite file, in-memory channel layer, generated dev secrets in an ignored
file, the local management cluster from localcluster/.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from kamaji_ui import devsecrets
from localcluster import paths as localcluster_paths
from localcluster import versions as localcluster_versions

BASE_DIR = Path(__file__).resolve().parent.parent


def env_list(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name)
    return tuple(v.strip() for v in raw.split(",") if v.strip()) if raw else default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.lower() in ("1", "true", "yes", "on")


_dev = None
if not (os.environ.get("SECRET_KEY") and os.environ.get("KAMAJI_UI_ENCRYPTION_KEY")):
    _dev = devsecrets.load_or_create(BASE_DIR / ".dev-secret")

SECRET_KEY = os.environ.get("SECRET_KEY") or _dev["secret_key"]
# Fernet key(s) for sensitive fields in the app database; comma-separated, newest first (rotation).
ENCRYPTION_KEYS = env_list("KAMAJI_UI_ENCRYPTION_KEY", (_dev["encryption_key"],) if _dev else ())
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = list(env_list("ALLOWED_HOSTS", ("localhost", "127.0.0.1", "[::1]", "testserver")))
CSRF_TRUSTED_ORIGINS = list(env_list("CSRF_TRUSTED_ORIGINS", ()))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, not a CDN
    "django_filters",
    "django_tables2",
    "django_htmx",
    "channels",
    "audit",
    "datastores",
    "tenants",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "kamaji_ui.urls"
ASGI_APPLICATION = "kamaji_ui.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The controller's threads and request handlers write concurrently. A deferred transaction that
    # reads and then writes fails at once with "database is locked" (SQLite will not wait on a lock
    # upgrade that could deadlock), whatever the timeout: so every transaction takes the write lock
    # at BEGIN (IMMEDIATE) and waits up to `timeout` seconds for it; WAL lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": int(os.environ.get("KAMAJI_UI_SQLITE_TIMEOUT", "20")),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL")
CHANNEL_LAYERS = {
    "default": (
        {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
        if REDIS_URL
        else {"BACKEND": "kamaji_ui.channel_layers.InMemoryChannelLayer"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tenants:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "kamaji_ui.api_schema.TruthfulAutoSchema",
    # JSON in, typed as the schema says (kamaji_ui.api_strict); forms are the web UI's business.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "kamaji_ui.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "kamaji-ui API",
    "DESCRIPTION": "Tenant Kubernetes control planes as a service.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# --- The product -------------------------------------------------------------------------
# Tenant Kubernetes versions offered to users: the single list every form, API and
# reconcile reads. The default is what localcluster builds images for.
KUBERNETES_VERSIONS = env_list("KAMAJI_UI_KUBERNETES_VERSIONS", localcluster_versions.TENANT_VERSIONS)
DEFAULT_KUBERNETES_VERSION = os.environ.get("KAMAJI_UI_DEFAULT_KUBERNETES_VERSION", KUBERNETES_VERSIONS[-1])
# One enum component for every field that takes a version (cluster, upgrade target).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {"KubernetesVersionEnum": list(KUBERNETES_VERSIONS)}
# Image repository for control-plane images (the local cluster imports under the same names).
IMAGE_REPOSITORY = os.environ.get("KAMAJI_UI_IMAGE_REPOSITORY", "registry.k8s.io")
KINE_IMAGE = os.environ.get("KAMAJI_UI_KINE_IMAGE", f"docker.io/rancher/kine:{localcluster_versions.KINE}")
CLUSTER_DOMAIN = os.environ.get("KAMAJI_UI_CLUSTER_DOMAIN", "cluster.local")
# The management cluster's own DNS domain (tenant Service names in the apiserver certificate).
MANAGEMENT_CLUSTER_DOMAIN = os.environ.get("KAMAJI_UI_MANAGEMENT_CLUSTER_DOMAIN", "cluster.local")

# Networks datastore endpoints must lie in (comma-separated CIDRs; empty: anywhere). The test suite's
# API fuzzing sets the project's own addresses, so nothing it registers points off this machine.
DATASTORE_ENDPOINT_NETWORKS = env_list("KAMAJI_UI_DATASTORE_NETWORKS", ())

# Management cluster: KUBECONFIG, else in-cluster config, else the local cluster (embedded).
KUBECONFIG = os.environ.get("KUBECONFIG") or None
USE_LOCALCLUSTER = env_bool(
    "KAMAJI_UI_LOCALCLUSTER", KUBECONFIG is None and "KUBERNETES_SERVICE_HOST" not in os.environ
)
LOCALCLUSTER_KUBECONFIG = str(localcluster_paths.KUBECONFIG)
# The address NodePort endpoints are advertised on (empty: the first Ready node's InternalIP). The local
# cluster's node lives in a network namespace of its own and its forwarder publishes every NodePort
# on the machine's 127.0.0.1, where kube-proxy also answers inside that namespace: the same
# kubeconfig then works on the machine and in the namespace.
NODEPORT_HOST = os.environ.get("KAMAJI_UI_NODEPORT_HOST", "127.0.0.1" if USE_LOCALCLUSTER else "")

# Controller: run inside the server process in the embedded default.
CONTROLLER_IN_PROCESS = env_bool("KAMAJI_UI_CONTROLLER_IN_PROCESS", True)
CONTROLLER_RESYNC_SECONDS = int(os.environ.get("KAMAJI_UI_RESYNC_SECONDS", "300"))
CONTROLLER_LEASE_NAMESPACE = os.environ.get("KAMAJI_UI_LEASE_NAMESPACE", "kube-system")
# The leading controller checks every datastore this often (the operator console shows the result).
DATASTORE_HEALTH_SECONDS = float(os.environ.get("KAMAJI_UI_DATASTORE_HEALTH_SECONDS", "30"))

# Certificates and kubeconfigs.
KUBECONFIG_VALIDITY = timedelta(hours=float(os.environ.get("KAMAJI_UI_KUBECONFIG_HOURS", "24")))
BREAK_GLASS_VALIDITY = timedelta(minutes=float(os.environ.get("KAMAJI_UI_BREAK_GLASS_MINUTES", "60")))
CERTIFICATE_VALIDITY = timedelta(days=int(os.environ.get("KAMAJI_UI_CERT_DAYS", "365")))
CA_VALIDITY = timedelta(days=int(os.environ.get("KAMAJI_UI_CA_DAYS", "3650")))
CERTIFICATE_RENEW_BEFORE = timedelta(days=int(os.environ.get("KAMAJI_UI_CERT_RENEW_DAYS", "30")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

# Live status (tenants/live): how many events and log lines a page shows; whether the web
# server runs the watches itself (only meaningful with the in-memory layer: with Redis the
# controller process runs them and every server replica receives the same fan-out).
LIVE_EVENTS_SHOWN = int(os.environ.get("KAMAJI_UI_LIVE_EVENTS", "20"))
LIVE_LOG_LINES = int(os.environ.get("KAMAJI_UI_LIVE_LOG_LINES", "200"))
LIVE_WATCHERS_IN_SERVER = env_bool("KAMAJI_UI_LIVE_WATCHERS_IN_SERVER", REDIS_URL is None and CONTROLLER_IN_PROCESS)
