"""Settings, read from the environment (DATABASE_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS, REDIS_URL).

Without DATABASE_URL the embedded default is SQLite in WAL mode under ``$KHOSHNUD_DATA_DIR``
(default ``./var``, relative to where the command runs: the project root for ``make demo``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("KHOSHNUD_DATA_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("DEBUG", False)
# The demo key only protects a local demo: `khoshnud serve` refuses it unless DEBUG.
DEMO_SECRET_KEY = "khoshnud-insecure-demo-key-set-SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", DEMO_SECRET_KEY)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "khoshnud.admin_apps.KhoshnudAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "khoshnud.admin_apps.TaskQueueConfig",  # django_tasks_db
    "khoshnud.admin_apps.LoginThrottlingConfig",  # axes
    "csp",
    "khoshnud.accounts",
    "khoshnud.customers",
    "khoshnud.commerce",
    "khoshnud.interactions",
    "khoshnud.language",
    "khoshnud.servicelevels",
    "khoshnud.cases",
    "khoshnud.channels",
    "khoshnud.feedback",
    "khoshnud.engagement",
    "khoshnud.ops",
    "khoshnud.insights",
    "khoshnud.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "khoshnud.api_errors.ApiJsonErrorsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out login with 429
]

ROOT_URLCONF = "khoshnud.urls"
WSGI_APPLICATION = "khoshnud.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Overrides of other apps' templates (the admin's base_site.html).
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{DATA_DIR / 'khoshnud.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL", _default_sqlite)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; "
    "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process read while the worker writes; IMMEDIATE avoids lock upgrades.
        # A 64 MiB page cache and 256 MiB of mmap keep a million-row log's indexes in memory.
        "init_command": SQLITE_PRAGMAS,
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Every path that sets a password checks these: `khoshnud user create`, the admin's forms,
# `khoshnud manage changepassword` / `createsuperuser`.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id for new and changed passwords; older hashes still verify and are upgraded at login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "khoshnud.accounts.throttle.LoginThrottleBackend",  # django-axes: refuses a locked-out login
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:customer_list"
LOGOUT_REDIRECT_URL = "login"

# Throttling (khoshnud/accounts/throttle.py). Counts are stored in the database, so every web
# process and machine shares them. Behind N reverse proxies set KHOSHNUD_TRUSTED_PROXIES=N so the
# client's address is read from X-Forwarded-For (only the proxies' own entries are trusted).
KHOSHNUD_TRUSTED_PROXIES = int(os.environ.get("KHOSHNUD_TRUSTED_PROXIES", "0"))
# Staff login (django-axes): lock a username from one address after this many failures.
AXES_FAILURE_LIMIT = int(os.environ.get("KHOSHNUD_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("KHOSHNUD_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "khoshnud.accounts.throttle.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "khoshnud.accounts.throttle.client_ip"
AXES_VERBOSE = False
# API tokens: after this many failed attempts from one address within the window (seconds),
# that address gets 429 with Retry-After until the window ends.
KHOSHNUD_TOKEN_FAILURE_LIMIT = int(os.environ.get("KHOSHNUD_TOKEN_FAILURE_LIMIT", "20"))
KHOSHNUD_TOKEN_FAILURE_WINDOW = int(os.environ.get("KHOSHNUD_TOKEN_FAILURE_WINDOW", "600"))

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fa", _("Persian")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Tehran")

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TASK_BACKEND = os.environ.get("KHOSHNUD_TASK_BACKEND", "database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "rq": "django_tasks_rq.RQBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASK_BACKEND]}}
if TASK_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
RQ_QUEUES = {"default": {"URL": REDIS_URL}}


def _env_number(name: str, default: str, kind: type[float] | type[int], minimum: float) -> float:
    """A number from the environment, or a configuration error that names the variable."""
    raw = os.environ.get(name, default)
    try:
        value = kind(raw)
    except ValueError:
        value = float("nan")
    if not (minimum <= value < float("inf")):  # also refuses NaN
        raise ImproperlyConfigured(f"{name} must be a number ≥ {minimum:g}, not {raw!r}")
    return value


# The database queue's lease (khoshnud/ops/worker.py): a worker beats every lease/4 seconds;
# a RUNNING task whose worker has been silent for longer is put back in the queue. Longer
# than any database outage a worker should ride out without its task being run again.
KHOSHNUD_WORKER_LEASE_SECONDS = _env_number("KHOSHNUD_WORKER_LEASE_SECONDS", "60", float, 0.5)
# A task is claimed at most this many times (reclaims and retries after database errors).
KHOSHNUD_TASK_MAX_ATTEMPTS = int(_env_number("KHOSHNUD_TASK_MAX_ATTEMPTS", "5", int, 1))
# How often each worker looks for periodic jobs that are due (ops.periodic); a job's own
# period is set where it is registered, overridden here by name (seconds; 0 switches it off).
KHOSHNUD_PERIODIC_TICK_SECONDS = _env_number("KHOSHNUD_PERIODIC_TICK_SECONDS", "5", float, 0.1)
KHOSHNUD_PERIODIC: dict[str, float] = {}

# Outbound email (docs/cases.md): SMTP when EMAIL_HOST is set, else printed on the console.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(_env_number("EMAIL_PORT", "25", int, 1))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@khoshnud.localhost")
# The domain of our Message-IDs (default: DEFAULT_FROM_EMAIL's).
KHOSHNUD_EMAIL_MESSAGE_ID_DOMAIN = os.environ.get("KHOSHNUD_EMAIL_MESSAGE_ID_DOMAIN", "")
# Outbound adapters by channel (khoshnud/channels/outbound.py), and how a failed send is retried.
KHOSHNUD_OUTBOUND_ADAPTERS = {
    "email": "khoshnud.channels.email_outbound.EmailAdapter",
    "telegram": "khoshnud.channels.messaging.TelegramAdapter",
    "whatsapp": "khoshnud.channels.messaging.WhatsAppAdapter",
    "instagram": "khoshnud.channels.messaging.InstagramAdapter",
    "wechat": "khoshnud.channels.messaging.WeChatAdapter",
}
# Messaging providers' API base URLs (docs/channels.md); tests point them at a local server.
TELEGRAM_API_BASE = os.environ.get("TELEGRAM_API_BASE", "https://api.telegram.org")
WHATSAPP_API_BASE = os.environ.get("WHATSAPP_API_BASE", "https://graph.facebook.com/v21.0")
INSTAGRAM_API_BASE = os.environ.get("INSTAGRAM_API_BASE", "https://graph.facebook.com/v21.0")
WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
KHOSHNUD_PROVIDER_TIMEOUT_SECONDS = _env_number("KHOSHNUD_PROVIDER_TIMEOUT_SECONDS", "15", float, 1)
# Channel accounts' credentials are encrypted with a key derived from this (default SECRET_KEY):
# set it on its own to rotate SECRET_KEY without re-entering every account's credentials.
# The public address webhooks are reached at (https://desk.example.com), when Khoshnud runs
# behind a proxy that hides it; otherwise the webhook URL is built from the request.
KHOSHNUD_PUBLIC_URL = os.environ.get("KHOSHNUD_PUBLIC_URL", "")
KHOSHNUD_CREDENTIALS_KEY = os.environ.get("KHOSHNUD_CREDENTIALS_KEY", "")
# The largest webhook body a provider may post (413 above): their updates are a few KiB.
KHOSHNUD_WEBHOOK_MAX_BYTES = int(_env_number("KHOSHNUD_WEBHOOK_MAX_BYTES", "1048576", int, 1024))
KHOSHNUD_DELIVERY_MAX_ATTEMPTS = int(_env_number("KHOSHNUD_DELIVERY_MAX_ATTEMPTS", "5", int, 1))
KHOSHNUD_DELIVERY_RETRY_SECONDS = _env_number("KHOSHNUD_DELIVERY_RETRY_SECONDS", "60", float, 0)

# Phones typed without a country code are read in this region (E.164 after normalisation).
KHOSHNUD_DEFAULT_REGION = os.environ.get("KHOSHNUD_DEFAULT_REGION", "IR")
KHOSHNUD_INGEST_MAX_BATCH = 1000
# The largest request body (any door; the API answers 413 JSON above it): 1,000 events of up
# to 10 KiB of JSON each fit. Django's default of 2.5 MB refused a batch inside the documented
# limits. Memory: a web thread holds the body and its parsed form (about 5× the body) at once.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("KHOSHNUD_MAX_BODY_BYTES", 10 * 1024 * 1024))

# What runs after interactions are stored, in order (khoshnud/interactions/pipeline.py): each
# step is called as step(interaction_ids=[...]) by a queued task and must be idempotent; its
# optional "missing" selector tells `khoshnud pipeline backfill` what the step has not done.
KHOSHNUD_INTERACTION_PIPELINE: list[str | dict[str, str]] = [
    {
        "step": "khoshnud.language.services.interactions_classify",
        "missing": "khoshnud.language.selectors.interactions_unclassified",
    },
    {
        "step": "khoshnud.cases.services.case_open_or_attach",
        "missing": "khoshnud.cases.selectors.interactions_without_case",
    },
]
# Cases (docs/cases.md): the team serving each kind (kind → Team name), and how long after a
# customer's last message a new one on the same channel still joins the same open case.
KHOSHNUD_CASE_TEAMS = {"service": "service", "support": "support", "care": "care"}
KHOSHNUD_CASE_ATTACH_WINDOW_HOURS = int(os.environ.get("KHOSHNUD_CASE_ATTACH_WINDOW_HOURS", "72"))
# How long a worker reuses the service catalog and teams it loaded for the case step (seconds;
# a change to the catalog reaches new cases this much later at most; 0: load them each time).
KHOSHNUD_CASE_CATALOG_CACHE_SECONDS = _env_number(
    "KHOSHNUD_CASE_CATALOG_CACHE_SECONDS", "5", float, 0
)
# The inbox's "breaching soon": open cases due to be resolved within this many hours, or late.
KHOSHNUD_INBOX_BREACHING_HOURS = float(os.environ.get("KHOSHNUD_INBOX_BREACHING_HOURS", "4"))
# Routing (docs/routing.md): an agent's open-case cap when their profile sets none, and where
# agents' customer ratings come from (a function user_ids → {user id: CSAT 1–5}; the neutral
# one until customer feedback lands).
KHOSHNUD_ROUTING_MAX_OPEN_CASES = int(_env_number("KHOSHNUD_ROUTING_MAX_OPEN_CASES", "20", int, 1))
# Customer feedback provides them (docs/feedback.md): each agent's smoothed CSAT.
KHOSHNUD_AGENT_RATINGS = "khoshnud.feedback.ratings.agent_csat_ratings"
# Fields of an ingested event that another app reads (khoshnud/interactions/extensions.py):
# "survey" on "type": "survey_answer" events records the answer (docs/feedback.md).
KHOSHNUD_EVENT_EXTENSIONS = {"survey": "khoshnud.feedback.ingest.SURVEY_EVENTS"}
# Feedback (docs/feedback.md): no customer is invited to a survey more than once in this many
# days, across all surveys (0: no limit); the public survey page's requests per address per
# minute; outbound emails rendered by another app (the survey invitation's score links).
KHOSHNUD_SURVEY_FATIGUE_DAYS = int(_env_number("KHOSHNUD_SURVEY_FATIGUE_DAYS", "30", int, 0))
KHOSHNUD_SURVEY_PAGE_RATE = int(_env_number("KHOSHNUD_SURVEY_PAGE_RATE", "30", int, 1))
# Agent ratings: the smoothing's weight of the neutral prior, the routing window, and how many
# ratings a month puts an agent on the recognition list; unhappy answers older than this many
# days when they arrive (an import) open no care follow-up.
KHOSHNUD_RATING_PRIOR_WEIGHT = _env_number("KHOSHNUD_RATING_PRIOR_WEIGHT", "5", float, 0)
KHOSHNUD_RATING_WINDOW_DAYS = int(_env_number("KHOSHNUD_RATING_WINDOW_DAYS", "90", int, 1))
KHOSHNUD_RECOGNITION_MIN_RATINGS = int(
    _env_number("KHOSHNUD_RECOGNITION_MIN_RATINGS", "10", int, 1)
)
KHOSHNUD_RECOVERY_WINDOW_DAYS = int(_env_number("KHOSHNUD_RECOVERY_WINDOW_DAYS", "7", int, 0))
KHOSHNUD_EMAIL_RENDERERS = {"survey_invitation": "khoshnud.feedback.delivery.invitation_email"}
# What other apps add to each timeline row (khoshnud/interactions/timeline.py).
KHOSHNUD_TIMELINE_ANNOTATORS = [
    "khoshnud.language.selectors.timeline_analyses",
    "khoshnud.commerce.selectors.timeline_orders",
    "khoshnud.channels.selectors.timeline_deliveries",
    "khoshnud.feedback.selectors.timeline_scores",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# HTTPS in production (see the README's configuration table). Off by default so that the demo
# works over plain http://127.0.0.1; `khoshnud manage check --deploy` lists what is missing.
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", False)
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a proxy that terminates TLS: the header it sets, e.g. "X-Forwarded-Proto" (value https).
_proxy_ssl_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): only our own scripts, styles, fonts and images; no
# inline script or style (htmx's indicator style is turned off in web/base.html), no frames.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Outreach (docs/engagement.md). SMS goes through SMS.ir's REST API (POST /v1/send/bulk,
# https://app.sms.ir/developer/help); the base URL is a setting so tests use a local server.
KHOSHNUD_OUTBOUND_ADAPTERS["sms"] = "khoshnud.channels.sms.SmsIrAdapter"
SMS_IR_API_BASE = os.environ.get("SMS_IR_API_BASE", "https://api.sms.ir/v1")
SMS_IR_API_KEY = os.environ.get("SMS_IR_API_KEY", "")
SMS_IR_LINE_NUMBER = os.environ.get("SMS_IR_LINE_NUMBER", "")
KHOSHNUD_INTERACTION_PIPELINE += [
    "khoshnud.engagement.services.opt_outs_from_replies",  # a STOP reply withdraws consent
    "khoshnud.engagement.services.triggers_from_notifications",  # "notification" events
]
# A pass sends at most this many messages per batch (one SMTP connection per batch).
KHOSHNUD_ENGAGEMENT_BATCH = int(_env_number("KHOSHNUD_ENGAGEMENT_BATCH", "200", int, 1))
KHOSHNUD_ENGAGEMENT_MAX_ATTEMPTS = int(_env_number("KHOSHNUD_ENGAGEMENT_MAX_ATTEMPTS", "5", int, 1))
KHOSHNUD_ENGAGEMENT_RETRY_SECONDS = _env_number("KHOSHNUD_ENGAGEMENT_RETRY_SECONDS", "60", float, 0)
