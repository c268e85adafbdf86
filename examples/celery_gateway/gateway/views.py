# SPDX-License-Identifier: MIT
"""The gateway's routes (PROTOCOL.md section 5; the wire format is agreed with the C++
http_task::celery::Gateway, and the /api/task/ routes are Flower's, so clients written for
Flower work here too).

Task state is read straight from the Redis result backend (`celery-task-meta-<id>` keys) and
awaited on the channels of the same names, where the backend publishes every state change:
one parked request waits for up to MAX_WAIT_IDS tasks without polling.
"""
import json
import math
import re
import time
import uuid

import redis
from celery import states
from django.conf import settings
from django.http import JsonResponse
from kombu.exceptions import OperationalError

import tasks  # noqa: F401  (registers the tasks, so that the gateway can tell unknown names)

from .celery import app

META_PREFIX = "celery-task-meta-"
APPLIED_PREFIX = "gateway-applied-"
MAX_WAIT_IDS = 1000
# Long-polls longer than this are cut to it: a parked request holds a gunicorn thread.
MAX_TIMEOUT = 3600.0
# Celery accepts any string as an id; ours travel in URL paths and Redis key names.
TASK_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,200}$")
READY_STATES = frozenset(states.READY_STATES)  # SUCCESS, FAILURE, REVOKED

# Thread-safe clients with their own connection pools; a command fails fast while Redis is
# down (socket_connect_timeout), which the routes turn into 503.
_results = redis.Redis.from_url(
    settings.CELERY_RESULT_BACKEND, socket_connect_timeout=2, socket_timeout=10
)
_state = redis.Redis.from_url(settings.GATEWAY_STATE_URL, socket_connect_timeout=2, socket_timeout=10)


class BadRequest(Exception):
    pass


def _error(status, message):
    return JsonResponse({"error": message}, status=status)


def route(*methods):
    """Allowed methods, and the answers every route gives: 400 for a malformed request,
    503 while Redis is unreachable (the client retries)."""

    def wrap(view):
        def handler(request, *args, **kwargs):
            if request.method not in methods:
                response = _error(405, f"Method {request.method} not allowed")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except BadRequest as exc:
                return _error(400, str(exc))
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OperationalError) as exc:
                return _error(503, f"Redis is unavailable: {exc}")

        handler.__name__ = view.__name__
        return handler

    return wrap


def _json_body(request):
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The body is not JSON: {exc}")
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object")
    return body


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise BadRequest(f"{what} must be a number, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise BadRequest(f"{what} must be a finite number >= 0, not {value!r}")
    return value


def _task_id(value):
    if not isinstance(value, str) or not TASK_ID.match(value):
        raise BadRequest(f"Invalid task id {value!r} (1 to 200 of A-Z a-z 0-9 _ . : -)")
    return value


def _applicable(name):
    return name in settings.GATEWAY_TASKS and name in app.tasks


def _decode_meta(raw):
    if raw is None:
        return None
    try:
        meta = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return meta if isinstance(meta, dict) else None


def _exception_texts(exc_type, exc_message):
    """str() and repr() of the stored exception, as the worker's Python printed them."""
    args = exc_message if isinstance(exc_message, list) else [exc_message]
    if len(args) == 0:
        text = ""
    elif len(args) == 1:
        text = str(args[0])
    else:
        text = str(tuple(args))
    return text, f"{exc_type}({', '.join(repr(a) for a in args)})"


def task_object(task_id, meta):
    """One task as /api/task/result answers it (Flower's fields, plus exc_type and
    exc_message when the state holds an exception)."""
    if meta is None:
        return {"task-id": task_id, "state": states.PENDING, "result": None}
    state = meta.get("status", states.PENDING)
    result = meta.get("result")
    answer = {"task-id": task_id, "state": state, "result": result}
    if state in states.EXCEPTION_STATES and isinstance(result, dict) and "exc_type" in result:
        exc_type = str(result.get("exc_type"))
        text, representation = _exception_texts(exc_type, result.get("exc_message"))
        answer.update(
            result=representation,
            exc_type=exc_type,
            exc_message=text,
            traceback=meta.get("traceback") or "",
        )
    return answer


def _ready(meta):
    return meta is not None and meta.get("status") in READY_STATES


def wait_for(task_ids, timeout):
    """The latest meta of each id ({id: meta or None}), once at least one is ready or after
    `timeout` seconds. Subscribes before reading, so that no state change falls between."""
    keys = [META_PREFIX + task_id for task_id in task_ids]
    if timeout <= 0:
        return {task_id: _decode_meta(raw) for task_id, raw in zip(task_ids, _results.mget(keys))}
    deadline = time.monotonic() + timeout
    pubsub = _results.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(*keys)
        metas = {task_id: _decode_meta(raw) for task_id, raw in zip(task_ids, _results.mget(keys))}
        if any(_ready(meta) for meta in metas.values()):
            return metas
        remaining = timeout
        while remaining > 0:
            message = pubsub.get_message(timeout=remaining)
            if message is not None and message["type"] == "message":
                task_id = message["channel"].decode()[len(META_PREFIX) :]
                meta = _decode_meta(message["data"])
                if task_id in metas and meta is not None:
                    metas[task_id] = meta
                    if _ready(meta):
                        # Take what else already arrived, without waiting any longer.
                        while True:
                            more = pubsub.get_message(timeout=0)
                            if more is None:
                                break
                            if more["type"] == "message":
                                other = more["channel"].decode()[len(META_PREFIX) :]
                                if other in metas:
                                    metas[other] = _decode_meta(more["data"]) or metas[other]
                        return metas
            remaining = deadline - time.monotonic()
        return metas
    finally:
        pubsub.close()


@route("POST")
def async_apply(request, name):
    if not _applicable(name):
        return _error(404, f"Unknown task '{name}'")
    body = _json_body(request)
    args = body.get("args", [])
    kwargs = body.get("kwargs", {})
    if args is None:
        args = []
    if kwargs is None:
        kwargs = {}
    if not isinstance(args, list):
        raise BadRequest("args must be a JSON array")
    if not isinstance(kwargs, dict):
        raise BadRequest("kwargs must be a JSON object")
    task_id = _task_id(body["task_id"]) if body.get("task_id") is not None else str(uuid.uuid4())
    options = {}
    if body.get("countdown") is not None:
        options["countdown"] = _number(body["countdown"], "countdown")
    if body.get("queue") is not None:
        if not isinstance(body["queue"], str) or not body["queue"]:
            raise BadRequest("queue must be a non-empty string")
        options["queue"] = body["queue"]

    # Idempotent on the id: only the first apply of an id sends the task. (If the gateway
    # died between this line and send_task, a retry would find the id taken and the task
    # never sent; the client's deadline covers that rare case.)
    if not _state.set(APPLIED_PREFIX + task_id, name, nx=True, ex=settings.GATEWAY_APPLIED_TTL):
        current = task_object(task_id, _decode_meta(_results.get(META_PREFIX + task_id)))
        return JsonResponse({"task-id": task_id, "state": current["state"]})
    try:
        app.send_task(name, args=args, kwargs=kwargs, task_id=task_id, **options)
    except Exception:
        try:
            _state.delete(APPLIED_PREFIX + task_id)
        except redis.exceptions.RedisError:
            pass
        raise
    return JsonResponse({"task-id": task_id, "state": states.PENDING})


@route("GET")
def result(request, task_id):
    _task_id(task_id)
    timeout = min(_number(request.GET.get("timeout", 0), "timeout"), MAX_TIMEOUT)
    return JsonResponse(task_object(task_id, wait_for([task_id], timeout)[task_id]))


@route("POST")
def revoke(request, task_id):
    _task_id(task_id)
    terminate = request.GET.get("terminate", request.POST.get("terminate", "false"))
    terminate = terminate.lower() in ("true", "1", "yes")
    signal = request.GET.get("signal", "SIGTERM")
    app.control.revoke(task_id, terminate=terminate, signal=signal)
    # A task still queued (or waiting for its countdown) would read PENDING until a worker
    # takes it and drops it: record REVOKED now, so that waiters learn it at once.
    if _results.get(META_PREFIX + task_id) is None:
        app.backend.mark_as_revoked(task_id, "revoked")
    return JsonResponse({"message": f"Revoked '{task_id}'"})


@route("POST")
def wait(request):
    body = _json_body(request)
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids:
        raise BadRequest("ids must be a non-empty JSON array of task ids")
    if len(ids) > MAX_WAIT_IDS:
        raise BadRequest(f"At most {MAX_WAIT_IDS} ids per request, not {len(ids)}")
    ids = list(dict.fromkeys(_task_id(task_id) for task_id in ids))
    timeout = min(_number(body.get("timeout", 0), "timeout"), MAX_TIMEOUT)
    metas = wait_for(ids, timeout)
    ready = [task_object(task_id, meta) for task_id, meta in metas.items() if _ready(meta)]
    return JsonResponse({"tasks": ready})


@route("GET")
def ping(request):
    _results.ping()
    return JsonResponse({"ok": True})


@route("GET", "POST")
def djcelery_apply(request, name):
    """djcelery's apply view: the query (GET) or form (POST) fields are the kwargs, as
    strings."""
    if not _applicable(name):
        return _error(404, f"Unknown task '{name}'")
    fields = request.POST if request.method == "POST" else request.GET
    kwargs = {key: fields[key] for key in fields}
    task_id = str(uuid.uuid4())
    _state.set(APPLIED_PREFIX + task_id, name, ex=settings.GATEWAY_APPLIED_TTL)
    app.send_task(name, kwargs=kwargs, task_id=task_id)
    return JsonResponse({"ok": "true", "task_id": task_id})
