"""Django settings for Topbox.

Every setting that differs between machines comes from the environment (see the
configuration table in README.md). The defaults are for local development; with
``DJANGO_ENV=production`` the process refuses to start while any of them is still in use.
"""

import os
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from topbox import env, security

BASE_DIR = Path(__file__).resolve().parent.parent

ENVIRONMENT = env.get("DJANGO_ENV", "development")
if ENVIRONMENT not in ("development", "production"):
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = ENVIRONMENT == "production"

DEVELOPMENT_SECRET_KEY = "django-insecure-topbox-development-only"
SECRET_KEY = env.get("DJANGO_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env.get_bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env.get_list("DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])

# Local state: the SQLite database for Django's auth, sessions and admin log, and the
# embedded MongoDB's files. Git-ignored.
DATA_DIR = Path(env.get("TOPBOX_DATA_DIR", str(BASE_DIR / ".data")))

# MongoDB holds all domain data. Without MONGO_URI every process talks to the embedded
# development server that `make run` (or `make db`) starts on EMBEDDED_MONGO_PORT.
EMBEDDED_MONGO_PORT = env.get_int("EMBEDDED_MONGO_PORT", 27018)
EMBEDDED_MONGO_URI = f"mongodb://127.0.0.1:{EMBEDDED_MONGO_PORT}/topbox"
MONGO_URI = env.get("MONGO_URI", "")
# Server selection and connecting: a database that is down fails a request in about a second.
MONGO_TIMEOUT_MS = env.get_int("MONGO_TIMEOUT_MS", 1000)
# What one web request may spend in MongoDB, all its queries together: sent as maxTimeMS,
# so the server stops a slow query (504), and a paused server is given up on (503).
MONGO_QUERY_TIMEOUT_MS = env.get_int("MONGO_QUERY_TIMEOUT_MS", 1000)
# The same for a CSV import over the API (POST /engagements/<id>/imports): many batches,
# within gunicorn's 30 s worker timeout; bigger files go through `manage.py ingest`.
MONGO_IMPORT_TIMEOUT_MS = env.get_int("MONGO_IMPORT_TIMEOUT_MS", 25_000)
# How long a write's commit is awaited, past the request's deadline, before its outcome is
# called unknown (a 503 that says to retry with the same Idempotency-Key): topbox.transactions.
MONGO_COMMIT_TIMEOUT_MS = env.get_int("MONGO_COMMIT_TIMEOUT_MS", 20_000)
# How long a POST's Idempotency-Key is remembered (topbox.api.idempotency).
IDEMPOTENCY_KEY_HOURS = env.get_int("IDEMPOTENCY_KEY_HOURS", 24)
# A command's single operation may take longer (index builds, big batches), never forever.
MONGO_SOCKET_TIMEOUT_MS = env.get_int("MONGO_SOCKET_TIMEOUT_MS", 60_000)
# Where statistics read on a replica set (primary, primaryPreferred, secondary,
# secondaryPreferred, nearest); unset: the URI's readPreference (primary by default).
MONGO_STATS_READ_PREFERENCE = env.get_choice(
    "MONGO_STATS_READ_PREFERENCE", "", ("", "primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest")
)  # the names of topbox.mongo.READ_PREFERENCES

if PRODUCTION:
    env.require_production(
        # At least 50 characters and 256 bits by estimate: generate one with
        # python3 -c 'import secrets; print(secrets.token_urlsafe(50))'
        DJANGO_SECRET_KEY=SECRET_KEY != DEVELOPMENT_SECRET_KEY and env.strong_secret_key(SECRET_KEY),
        DJANGO_DEBUG=not DEBUG,
        # Named hosts only: "*" would accept any Host header (cache poisoning, password-reset links).
        DJANGO_ALLOWED_HOSTS=bool(ALLOWED_HOSTS) and not any("*" in host for host in ALLOWED_HOSTS),
        MONGO_URI=bool(MONGO_URI) and MONGO_URI != EMBEDDED_MONGO_URI,
        # Never the checkout's .data/, where `make run` keeps its local dev/dev login.
        TOPBOX_DATA_DIR=any(name in os.environ for name in ("TOPBOX_DATA_DIR", "DJANGO_SQLITE_PATH", "DATABASE_URL")),
    )

INSTALLED_APPS = [
    # django.contrib.admin, with the project's site for documents (topbox/admin/).
    "topbox.admin.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "topbox",
    "clients",
    "engagements",
    "interactions",
    "sampledata",
    "devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Bounds each request's MongoDB time; a database that is down or slow is a 503/504.
    "topbox.middleware.DatabaseDeadlineMiddleware",
    # Serves the admin's and the browsable API's static files under gunicorn too.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "topbox.api.middleware.RequestSizeLimitMiddleware",
    "topbox.security.ContentSecurityPolicyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "topbox.messages.MessageMiddleware",  # Django's, its storage made on first use
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "topbox.urls"
# The seed's routes have no trailing slash; ours answer both ways without redirecting.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Searched before the apps' templates, so these override DRF's and the admin's.
        "DIRS": [BASE_DIR / "topbox" / "templates"],
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

WSGI_APPLICATION = "topbox.wsgi.application"

# Browser logins outside the admin (the browsable API, a client team's dashboard) use
# the browsable API's login page, and land on the API root unless `next` says otherwise.
LOGIN_URL = "rest_framework:login"
LOGIN_REDIRECT_URL = "/"

# Django's users, tokens, sessions and admin history: PostgreSQL (or any database
# dj-database-url knows) from DATABASE_URL, so that every web machine shares them;
# without it a SQLite file, for one machine. Its directory is created on first use.
SQLITE = {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": env.get("DJANGO_SQLITE_PATH", str(DATA_DIR / "django.sqlite3")),
    # Several gunicorn workers share the file (and the cache table in it): readers never
    # wait for the writer (WAL), commits skip the fsync (a power cut may lose the last
    # ones, never the file), and a writing transaction takes its lock up front instead of
    # failing with "database is locked" when two upgrade at once.
    "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", "transaction_mode": "IMMEDIATE"},
    # Kept open between requests, as DATABASE_URL's are: opening the file and setting the
    # PRAGMAs per request costs more than the token and throttle lookups themselves.
    "CONN_MAX_AGE": 60,
    "CONN_HEALTH_CHECKS": True,
}
DATABASES = {"default": env.get_database("DATABASE_URL", SQLITE)}

# Token lookups and throttle counters, shared by every process that uses the same
# CACHE_URL: Redis across machines; by default a table in the SQL database above
# (created by `migrate`), which every gunicorn worker sees. locmem:// is per process.
CACHES = {"default": env.get_cache("CACHE_URL", "db://")}
if PRODUCTION:  # workers each with a cache of their own would each count and remember apart
    env.require_production(CACHE_URL=CACHES["default"]["BACKEND"] != env.PER_PROCESS_CACHE)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    # Token first: an anonymous request gets 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "topbox.api.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "topbox.api.permissions.IsStaffOrReadOnly",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "topbox.api.renderers.ExtendedJSONRenderer",
        "topbox.api.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["topbox.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "topbox.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "topbox.api.schema.AutoSchema",
    "DEFAULT_METADATA_CLASS": "topbox.api.metadata.DocumentMetadata",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "topbox.api.negotiation.ContentNegotiation",
    "DEFAULT_THROTTLE_CLASSES": [
        "topbox.api.throttling.AnonRateThrottle",
        "topbox.api.throttling.UserRateThrottle",
    ],
    # Reverse proxies in front of us whose X-Forwarded-For we trust (compose: nginx, 1).
    "NUM_PROXIES": env.get_int("TRUSTED_PROXY_COUNT", 0),
}

# Request rates ("<n>/second|minute|hour|day", or "off"), counted in the shared cache:
# per address for anonymous requests, per user otherwise, and failed token attempts per
# address (over the limit, every token from that address gets 429 until it cools off).
API_THROTTLE_RATES = {
    "anon": env.get_rate("API_THROTTLE_ANON", "60/minute"),
    "user": env.get_rate("API_THROTTLE_USER", "1200/minute"),
    "failed_token": env.get_rate("API_THROTTLE_FAILED_TOKENS", "20/minute"),
}

# Login throttling (django-axes) for the admin and the browsable API's session login:
# after LOGIN_FAILURE_LIMIT failures for one username from one address, that pair is
# refused for LOGIN_COOLOFF_MINUTES (counted in the shared cache; a success resets it).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env.get_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.get_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the lockout ends when the page says
AXES_LOCKOUT_CALLABLE = "topbox.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "topbox.api.throttling.client_ip"
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # the cache handler keeps no records to show

# How long a process remembers which user an API token belongs to (see topbox/api/authentication.py).
TOKEN_CACHE_SECONDS = env.get_int("TOKEN_CACHE_SECONDS", 30)

# Request bodies larger than this get 413 (a view may name another setting in `max_body_setting`).
API_MAX_BODY_BYTES = env.get_int("API_MAX_BODY_BYTES", 1024 * 1024)
# CSV uploads (POST /engagements/<id>/imports); bigger files go through `manage.py ingest`.
API_MAX_UPLOAD_BYTES = env.get_int("API_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)

SPECTACULAR_SETTINGS = {
    "TITLE": "Topbox API",
    "DESCRIPTION": (
        # Markdown: in code spans, Swagger UI shows "<24 hex>" rather than reading it as a tag.
        "Clients, their engagements (data sources) and customer interactions. Ids and dates are "
        'MongoDB legacy Extended JSON: `{"$oid": "<24 hex>"}` and `{"$date": <ms since the epoch>}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "topbox.api.schema.strip_trailing_slashes",
        "topbox.api.schema.describe_path_ids",
        "topbox.api.schema.optional_response_fields",
    ],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
FORMAT_MODULE_PATH = ["topbox.formats"]  # dates shown with their zone: 2020-05-16 12:00:00 UTC
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.get("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Outside production WhiteNoise serves straight from the apps' static folders.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# HTTPS in production, each part with an opt-out for a deployment that needs it (README:
# Security and operations). A proxy that terminates TLS must set X-Forwarded-Proto.
if PRODUCTION:
    SESSION_COOKIE_SECURE = env.get_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env.get_bool("DJANGO_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probes from inside the network speak plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.get_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.get_bool("DJANGO_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Joining the browsers' preload list is the domain owner's decision, not a default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (topbox/security.py): on in production unless DJANGO_CSP is empty.
CONTENT_SECURITY_POLICY = env.get("DJANGO_CSP", security.DEFAULT_POLICY if PRODUCTION else "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.get("DJANGO_LOG_LEVEL", "INFO")},
}

# Development error pages summarise each variable, so they render fast whatever a frame holds.
DEFAULT_EXCEPTION_REPORTER_FILTER = "topbox.debug.BoundedExceptionReporterFilter"
