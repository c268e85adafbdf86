# SPDX-License-Identifier: MIT
"""WSGI entry point: `python3 -m gunicorn gateway.wsgi` (cluster.sh)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")

application = get_wsgi_application()
