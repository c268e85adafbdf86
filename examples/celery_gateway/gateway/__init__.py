# SPDX-License-Identifier: MIT
"""The HTTP gateway's Django project; importing it makes its Celery app the default one."""
from .celery import app as celery_app

__all__ = ("celery_app",)
