# SPDX-License-Identifier: MIT
"""Settings for the multiply webhook: no database, no apps, nothing to migrate."""
import os

# Only ever served on the loopback interface; override it for anything else.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "http_task-example-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = []
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Kept so that csrf_exempt on the view is what lets webhook POSTs through,
    # as in a real project.
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "webhook.urls"
WSGI_APPLICATION = "webhook.wsgi.application"
DATABASES = {}
USE_TZ = True

# Per-request warnings (404, 405) would flood a test log; errors still show.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "ERROR"},
    },
}
