# SPDX-License-Identifier: MIT
"""Settings of the gateway and of the workers; everything that differs per cluster is read
from the environment (cluster.sh sets it)."""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SECRET_KEY = os.environ.get("GATEWAY_SECRET_KEY", "celery-gateway-example-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
ROOT_URLCONF = "gateway.urls"
WSGI_APPLICATION = "gateway.wsgi.application"
# No database: task state lives in the Redis result backend. No CSRF middleware: the
# routes are an API for programs (bind to 127.0.0.1 or put an authenticating proxy in front).
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

_redis = os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379")

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", _redis + "/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", _redis + "/1")
# The gateway's own records (applied task ids) and the tasks.touch counters.
GATEWAY_STATE_URL = os.environ.get("GATEWAY_STATE_URL", _redis + "/2")

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged once it has run, not when a worker takes it: a worker that dies
# mid-task leaves the message unacknowledged, and the broker gives it to another worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TRACK_STARTED = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Stores name, args, kwargs and worker with each result (djcelery's and Flower's views).
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = int(os.environ.get("CELERY_RESULT_EXPIRES", 24 * 3600))
# Redis has no broker-side acknowledgement timeout: a message taken by a worker that died
# (kill -9) sits in the "unacked" hash until a live worker restores it, which kombu does
# for messages older than visibility_timeout (checked every 10 s). The default is an hour;
# short here so that a killed worker's task runs elsewhere soon. The price: a task that
# runs (or waits for its countdown) longer than this is delivered a second time while the
# first copy still runs. README.md explains the trade-off.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 3600)),
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Tasks that POST /api/task/async-apply/<name> and /apply/<name>/ may apply.
GATEWAY_TASKS = [
    name.strip()
    for name in os.environ.get(
        "GATEWAY_TASKS",
        "tasks.add,tasks.multiply,tasks.fail,tasks.sleep,tasks.http_dispatch,"
        "tasks.touch,tasks.count",
    ).split(",")
    if name.strip()
]
# How long an applied task id is remembered (a retried apply with it sends nothing).
GATEWAY_APPLIED_TTL = int(os.environ.get("GATEWAY_APPLIED_TTL", 24 * 3600))
# tasks.http_dispatch calls webhooks on these hosts only: the gateway lets HTTP clients
# apply it, and an open one would fetch any URL on their behalf.
HTTP_DISPATCH_ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("HTTP_DISPATCH_ALLOWED_HOSTS", "127.0.0.1,::1,localhost").split(",")
    if host.strip()
]
