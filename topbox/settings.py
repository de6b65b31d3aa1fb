"""Django settings for Topbox.

Every setting that differs between machines comes from the environment (see the
configuration table in README.md). The defaults are for local development; with
``DJANGO_ENV=production`` the process refuses to start while any of them is still in use.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from topbox import env

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
MONGO_TIMEOUT_MS = env.get_int("MONGO_TIMEOUT_MS", 3000)

if PRODUCTION:
    env.require_production(
        DJANGO_SECRET_KEY=SECRET_KEY != DEVELOPMENT_SECRET_KEY and len(SECRET_KEY) >= 32,
        DJANGO_DEBUG=not DEBUG,
        DJANGO_ALLOWED_HOSTS=bool(ALLOWED_HOSTS),
        MONGO_URI=bool(MONGO_URI) and MONGO_URI != EMBEDDED_MONGO_URI,
        # Never the checkout's .data/, where `make run` keeps its local dev/dev login.
        TOPBOX_DATA_DIR="TOPBOX_DATA_DIR" in os.environ or "DJANGO_SQLITE_PATH" in os.environ,
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
    "topbox",
    "clients",
    "engagements",
    "interactions",
    "sampledata",
    "devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's and the browsable API's static files under gunicorn too.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "topbox.api.middleware.RequestSizeLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env.get("DJANGO_SQLITE_PATH", str(DATA_DIR / "django.sqlite3")),
    }
}

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
}

# How long a process remembers which user an API token belongs to (see topbox/api/authentication.py).
TOKEN_CACHE_SECONDS = env.get_int("TOKEN_CACHE_SECONDS", 30)

# Request bodies larger than this get 413 (views may set their own `max_body_bytes`).
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
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "topbox.api.schema.strip_trailing_slashes",
    ],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
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

if PRODUCTION:
    SESSION_COOKIE_SECURE = env.get_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.get("DJANGO_LOG_LEVEL", "INFO")},
}
