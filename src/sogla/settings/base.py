"""Every Sogla setting, read from ``SOGLA_*`` environment variables with safe defaults.

docs/configuration.md lists each variable. Nothing here exists only in production:
``test.py`` overrides speed and isolation knobs only.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from sogla.settings.env import env_bool, env_int, env_list, env_path, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = PACKAGE_DIR.parent.parent
DATA_DIR = env_path("DATA_DIR", PROJECT_DIR / "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The key from SOGLA_SECRET_KEY, or one generated once and kept under DATA_DIR."""
    given = env_str("SECRET_KEY", "")
    if given:
        return given
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "sogla.core",
    "sogla.orgs",
    "sogla.documents",
    "sogla.notifications",
    "sogla.discussion",
    "sogla.workflow",
    "sogla.external",
    "sogla.reports",
    "sogla.evidence",
    "sogla.web",
    "sogla.api",
    "sogla.starter",
    "sogla.demo",
    "sogla.site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "sogla.core.csrf.CsrfViewMiddleware",  # Django's, and the guest pages' (/g/)
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sogla.core.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sogla.core.middleware.SecurityHeadersMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

# security.W003 looks for Django's CSRF middleware by its dotted path; ours is a
# subclass of it (sogla.core.csrf) that keeps every check and adds the guest pages'
# Fetch-Metadata rule. tests/external/test_guest_csrf.py proves CSRF is enforced.
SILENCED_SYSTEM_CHECKS = ["security.W003"]

ROOT_URLCONF = "sogla.site.urls"
WSGI_APPLICATION = "sogla.wsgi.application"
ASGI_APPLICATION = "sogla.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sogla.site.context_processors.shell",
            ],
        },
    },
]

# Database: SQLite under DATA_DIR unless SOGLA_DATABASE_URL names another one.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'sogla.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend with the %s -> ? conversion remembered (sogla/core/sqlite).
    DATABASES["default"]["ENGINE"] = "sogla.core.sqlite"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # IMMEDIATE transactions take the write lock at BEGIN, so concurrent commands
    # queue instead of failing half-way; WAL lets readers run beside one writer.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED", default=True
):
    # The statements every page and every decision runs (``core.prepared``: compiled
    # querysets, the state's and the card's UNION ALL reads, the decision's UPDATEs
    # and INSERTs, the audit chain's head) are prepared on the server the first time
    # a connection runs them, so it neither parses nor plans them again (planning a
    # seven-table join cost 5-10 ms on every page; a decision's server CPU halves).
    # Every other query keeps Django's client-side binding. docs/benchmarks.md, ADR
    # 0002. Off with SOGLA_DATABASE_PREPARED=0 behind a pooler that cannot keep
    # prepared statements (PgBouncer before 1.21 in transaction mode, or without
    # ``max_prepared_statements``; docs/deployment.md).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "orgs.User"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: a locked-out sign-in is refused before any password is checked.
AUTHENTICATION_BACKENDS = [
    "sogla.orgs.lockout.LockoutBackend",
    # Django's ModelBackend, reading the signed-in user with their organisation in
    # one statement (sogla/orgs/backends.py)
    "sogla.orgs.backends.UserBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "workflow:inbox"
LOGOUT_REDIRECT_URL = "accounts:login"

# Languages and time.
LANGUAGE_CODE = env_str("LANGUAGE", "ru")
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
# English dates read "3 Dec 2026" (sogla/web/formats/en).
FORMAT_MODULE_PATH = ["sogla.web.formats"]
USE_TZ = True

# Static files and uploads.
STATIC_URL = "/static/"
STATIC_ROOT = env_path("STATIC_ROOT", DATA_DIR / "static")
MEDIA_ROOT = env_path("MEDIA_ROOT", DATA_DIR / "files")
STORAGE_BACKEND = env_str("STORAGE", "filesystem")
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("S3_BUCKET", "sogla"),
            "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
            "access_key": env_str("S3_ACCESS_KEY", ""),
            "secret_key": env_str("S3_SECRET_KEY", ""),
            "region_name": env_str("S3_REGION", "us-east-1"),
            "addressing_style": "path",
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": 120,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "file_permissions_mode": 0o640},
    }
# Download links (file system: signed; S3: presigned) live this long, at most 300 s.
SOGLA_DOWNLOAD_LINK_SECONDS = env_int("DOWNLOAD_LINK_SECONDS", 120)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploads above the limit are refused with a message naming the field.
SOGLA_MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 50)
DATA_UPLOAD_MAX_NUMBER_FILES = 20
# The public verification page /v/<code>: requests per client address and minute,
# and the largest file it compares (MB).
SOGLA_VERIFY_PER_MINUTE = env_int("VERIFY_PER_MINUTE", 30)
SOGLA_VERIFY_MAX_MB = env_int("VERIFY_MAX_MB", SOGLA_MAX_UPLOAD_MB)
# Office documents are ZIP containers; one that declares more members, a larger
# directory (1 KiB per allowed member), a member inflating more than MAX_RATIO
# times (above 1 MiB) or more in total than MAX_UNCOMPRESSED_MB is refused before
# anything in it is listed.
SOGLA_ZIP_MAX_ENTRIES = env_int("ZIP_MAX_ENTRIES", 5000)
SOGLA_ZIP_MAX_RATIO = env_int("ZIP_MAX_RATIO", 200)
SOGLA_ZIP_MAX_UNCOMPRESSED_MB = env_int("ZIP_MAX_UNCOMPRESSED_MB", 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Previews (documents/previews.py): LibreOffice converts office files in the worker,
# one run at a time per worker, killed after PREVIEW_TIMEOUT seconds or when it uses
# more than PREVIEW_MEMORY_MB of address space; ZIP files inflating beyond
# PREVIEW_MAX_UNCOMPRESSED_MB (or a member more than PREVIEW_ZIP_MAX_RATIO times)
# and PDFs over PREVIEW_MAX_PAGES pages get "no preview" (they still download).
SOGLA_PREVIEW_SOFFICE = env_str("PREVIEW_SOFFICE", "soffice")
SOGLA_PREVIEW_TIMEOUT = env_int("PREVIEW_TIMEOUT", 60)
SOGLA_PREVIEW_MEMORY_MB = env_int("PREVIEW_MEMORY_MB", 4096)
SOGLA_PREVIEW_MAX_UNCOMPRESSED_MB = env_int("PREVIEW_MAX_UNCOMPRESSED_MB", 200)
SOGLA_PREVIEW_ZIP_MAX_RATIO = env_int("PREVIEW_ZIP_MAX_RATIO", 100)
SOGLA_PREVIEW_MAX_PAGES = env_int("PREVIEW_MAX_PAGES", 2000)
SOGLA_PREVIEW_MAX_PIXELS = env_int("PREVIEW_MAX_PIXELS", 60_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# E-mail.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 8025)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("EMAIL_FROM", "Sogla <sogla@localhost>")
# With SOGLA_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (what
# `make run` uses) mails are written as files here instead of being sent.
EMAIL_FILE_PATH = env_path("EMAIL_FILE_PATH", DATA_DIR / "mail")

# Guests (sogla.external): the cookie a link is exchanged for lives at most this long
# (and ends after 30 idle minutes); SMS for one-time codes: "" (codes by e-mail),
# "file" (development: JSON files under SMS_FILE_DIR), "smsru" (SMS.ru's HTTP API:
# SOGLA_SMSRU_API_ID, optional SOGLA_SMSRU_SENDER, SOGLA_SMSRU_URL,
# SOGLA_SMSRU_TIMEOUT seconds, SOGLA_SMSRU_TEST=1 for SMS.ru's free test mode).
GUEST_SESSION_SECONDS = env_int("GUEST_SESSION_SECONDS", 8 * 3600)
SMS_BACKEND = env_str("SMS_BACKEND", "")
if SMS_BACKEND not in ("", "file", "smsru"):
    raise ImproperlyConfigured("SOGLA_SMS_BACKEND must be empty, file or smsru")
SMS_FILE_DIR = env_path("SMS_FILE_DIR", DATA_DIR / "sms")
SMSRU_URL = env_str("SMSRU_URL", "https://sms.ru/sms/send")
SMSRU_API_ID = env_str("SMSRU_API_ID", "")
SMSRU_SENDER = env_str("SMSRU_SENDER", "")
SMSRU_TIMEOUT = env_int("SMSRU_TIMEOUT", 10)
SMSRU_TEST = env_bool("SMSRU_TEST", default=False)
if SMS_BACKEND == "smsru" and not SMSRU_API_ID:
    raise ImproperlyConfigured("SOGLA_SMS_BACKEND=smsru needs SOGLA_SMSRU_API_ID")
# Notifications: the local hour (recipient's time zone) of the daily digest e-mail.
NOTIFICATION_DIGEST_HOUR = env_int("DIGEST_HOUR", 8)
# A worker's claim on a notification it is sending; after it, another worker may
# retry (a worker killed mid-send is taken over this much later).
NOTIFICATION_LEASE_SECONDS = env_int("NOTIFICATION_LEASE_SECONDS", 300)

# The audit log's anchor (docs/audit.md): the worker anchors documents' chains into
# their organisation's chain every AUDIT_ANCHOR_SECONDS (0: never, nor digests on
# schedule) and signs every organisation chain's head into a digest file under
# AUDIT_DIGEST_DIR every AUDIT_DIGEST_HOURS, with an HMAC key kept outside the
# database; AUDIT_DIGEST_MAIL also mails each organisation's part to its admins.
AUDIT_KEY_MIN_LENGTH = 32


def _audit_key() -> str:
    """SOGLA_AUDIT_KEY, or the file SOGLA_AUDIT_KEY_FILE names (a mounted secret),
    or one generated once into <DATA_DIR>/audit_key."""
    given = env_str("AUDIT_KEY", "")
    name = "SOGLA_AUDIT_KEY"
    if not given:
        path = env_path("AUDIT_KEY_FILE", DATA_DIR / "audit_key")
        name = "SOGLA_AUDIT_KEY_FILE"
        if not path.exists() and "SOGLA_AUDIT_KEY_FILE" not in os.environ:
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(32))
        try:
            given = path.read_text().strip()
        except OSError as error:
            raise ImproperlyConfigured(f"{name}: cannot read {path}: {error}") from None
    if len(given) < AUDIT_KEY_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"{name}: the audit key needs at least {AUDIT_KEY_MIN_LENGTH} characters"
        )
    return given


AUDIT_KEY = _audit_key()
AUDIT_DIGEST_DIR = env_path("AUDIT_DIGEST_DIR", DATA_DIR / "audit")
AUDIT_DIGEST_HOURS = env_int("AUDIT_DIGEST_HOURS", 24)
AUDIT_ANCHOR_SECONDS = env_int("AUDIT_ANCHOR_SECONDS", 60)
AUDIT_DIGEST_MAIL = env_bool("AUDIT_DIGEST_MAIL", default=False)

# Background tasks: the database backend needs no broker; larger installations may
# use Redis + RQ (pip install "sogla[rq]", SOGLA_TASKS_BACKEND=rq, SOGLA_REDIS_URL,
# and run `sogla rqworker default --job-class django_tasks_rq.Job` next to
# `sogla worker`, which keeps firing timers and delivering mail from the database and
# hands file previews and search indexing to the rqworkers: sogla/site/tasks.py).
TASKS_BACKEND = env_str("TASKS_BACKEND", "db")
if TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": env_str("REDIS_URL", "redis://127.0.0.1:6379/0")}}
elif TASKS_BACKEND == "db":
    TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
else:
    raise ImproperlyConfigured("SOGLA_TASKS_BACKEND must be db or rq")

# Security. SOGLA_HTTPS=1 switches on everything that needs TLS in front of Sogla.
HTTPS = env_bool("HTTPS", default=False)
# Behind a reverse proxy that sets X-Forwarded-For, the audit log records the client
# address from that header (the address the proxy appended); otherwise REMOTE_ADDR.
TRUST_PROXY = env_bool("TRUST_PROXY", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Django's database sessions, the row read by a statement compiled once
# (sogla/core/sessions.py)
SESSION_ENGINE = "sogla.core.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_AGE_SECONDS", 14 * 24 * 3600)
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# Sign-in lock-out (sogla.orgs.lockout; docs/admin-guide.md). Failed password checks
# within SOGLA_LOCKOUT_MINUTES: 5 for one account from one address, 20 for one
# account from anywhere, 30 from one address for any accounts. The lock ends
# SOGLA_LOCKOUT_MINUTES after the last counted failure, or when an administrator
# unlocks the account in the admin (Users). Addresses as in the audit log
# (SOGLA_TRUST_PROXY).
SOGLA_LOCKOUT_MINUTES = env_int("LOCKOUT_MINUTES", 15)
SOGLA_LOCKOUT_FAILURES = env_int("LOCKOUT_FAILURES", 5)
SOGLA_LOCKOUT_ACCOUNT_FAILURES = env_int("LOCKOUT_ACCOUNT_FAILURES", 20)
SOGLA_LOCKOUT_ADDRESS_FAILURES = env_int("LOCKOUT_ADDRESS_FAILURES", 30)
AXES_HANDLER = "sogla.orgs.lockout.SoglaAxesHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_FAILURE_LIMIT = SOGLA_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = timedelta(minutes=SOGLA_LOCKOUT_MINUTES)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "sogla.orgs.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "sogla.orgs.views.locked_out"
AXES_ENABLE_ADMIN = False  # unlocking is in the Users admin, scoped and audited
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are not kept
AXES_VERBOSE = False
# Masked in what axes keeps of a failed request (the password-change form's too).
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "old_password",
    "new_password1",
    "new_password2",
    "csrfmiddlewaretoken",
]
# Personal API tokens: at most this many created per person per hour.
SOGLA_TOKENS_PER_HOUR = env_int("TOKENS_PER_HOUR", 10)
# How often (seconds) a process asks the database whether the working calendar it
# keeps is still current (one small query); 0 asks on every use.
SOGLA_CALENDAR_CHECK_SECONDS = env_int("CALENDAR_CHECK_SECONDS", 1)
# Joining (docs/admin-guide.md): first-run setup codes are burnt after this many
# wrong tries; invitation links live this many days; an administrator sends at most
# this many invitations an hour; SOGLA_OPEN_SIGNUP=1 lets anyone create an
# organisation after confirming their e-mail.
SOGLA_SETUP_CODE_FAILURES = env_int("SETUP_CODE_FAILURES", 10)
SOGLA_INVITATION_DAYS = env_int("INVITATION_DAYS", 7)
SOGLA_INVITATIONS_PER_HOUR = env_int("INVITATIONS_PER_HOUR", 50)
SOGLA_OPEN_SIGNUP = env_bool("OPEN_SIGNUP", default=False)
# Password reset requests an hour: from one address (then 429), and mails to one
# e-mail (further requests are answered alike and send nothing).
SOGLA_RESET_PER_ADDRESS = env_int("RESET_PER_ADDRESS", 5)
SOGLA_RESET_PER_EMAIL = env_int("RESET_PER_EMAIL", 3)
# Rows in one people/departments import file (the whole file is refused above it).
SOGLA_IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 50_000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Every failed sign-in and lock-out is a warning; axes' routine notes are not.
    "loggers": {"axes": {"level": "WARNING"}},
}
