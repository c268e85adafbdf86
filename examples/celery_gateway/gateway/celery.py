"""The cluster's Celery app, configured from gateway.settings (the CELERY_ names).

Workers start it as `/usr/bin/python3 -m celery -A gateway worker`; the gateway imports it.
"""
import ctypes
import os
import signal

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")

app = Celery("gateway", include=["tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
# The gateway's threads and django-celery-results' views use celery.current_app, which is
# thread-local with the default app as its fallback: make this app that fallback.
app.set_default()


@worker_process_init.connect
def _die_with_the_worker(**_):
    """A pool process ends when its worker's main process is killed (even with -9).

    Without this an orphaned child would finish the task and store its result while the
    broker also redelivers the message (acks_late): the task would run twice.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the redelivery still happens, the orphan may run it too
