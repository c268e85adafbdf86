# SPDX-License-Identifier: MIT
"""The example cluster's tasks (Celery names tasks.<function>)."""
import time

import redis
from django.conf import settings

from gateway.celery import app
from http_dispatch import HttpDispatch

_counters = None


def _counter_client():
    global _counters
    if _counters is None:
        _counters = redis.Redis.from_url(settings.GATEWAY_STATE_URL)
    return _counters


@app.task
def add(x, y):
    return x + y


@app.task
def multiply(x, y):
    return x * y


@app.task
def fail(message):
    raise ValueError(message)


@app.task
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task
def touch(key):
    """Counts its runs under `key`: proves that a retried apply ran the task once."""
    return _counter_client().incr("touch:" + key)


@app.task
def count(key):
    value = _counter_client().get("touch:" + key)
    return int(value) if value is not None else 0


@app.task
def http_dispatch(url, method="GET", kwargs=None, timeout=HttpDispatch.timeout):
    """Celery 2.2's HttpDispatchTask: calls the webhook at `url` (GET: kwargs as the query;
    other methods: as a form) and returns its retval, or fails with its reason."""
    return HttpDispatch(
        url, method, kwargs or {}, timeout=timeout, allowed_hosts=settings.HTTP_DISPATCH_ALLOWED_HOSTS
    ).dispatch()
