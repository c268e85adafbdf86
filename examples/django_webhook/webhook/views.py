# SPDX-License-Identifier: MIT
"""The Celery 2.2 docs' multiply webhook, ported to today's Django, and the routes the
interop tests need (identical in every examples/webhooks server)."""
import re

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

MOON_REASON = "Invalid moon alignment: \u263e \u2260 \u2600 (\U0001f319)"
MAX_LARGE = 64 * 1024 * 1024
# Stricter than int(), which also takes " 10", "1_000" and non-ASCII digits.
INTEGER = re.compile(r"[+-]?[0-9]+")


def _call_args(request):
    """The call's arguments as http_task sends them: the query for GET, the form body
    for POST. A repeated name keeps its last value (QueryDict's own rule)."""
    params = request.POST if request.method == "POST" else request.GET
    return {name: params[name] for name in params}


def _integer_argument(args, name):
    """Returns (value, None) or (None, reason): bad input is a failure, not a 500."""
    raw = args.get(name)
    if raw is None:
        return None, f"missing argument {name}"
    if not INTEGER.fullmatch(raw):
        return None, f"argument {name} is not an integer"
    return int(raw), None


def _success(retval):
    return JsonResponse({"status": "success", "retval": retval})


def _failure(reason):
    return JsonResponse({"status": "failure", "reason": reason})


# Webhook callers have no CSRF token; csrf_exempt is what lets their POSTs in.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def multiply(request):
    args = _call_args(request)
    x, reason = _integer_argument(args, "x")
    if reason is None:
        y, reason = _integer_argument(args, "y")
    if reason is not None:
        return _failure(reason)
    return _success(x * y)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def echo_args(request):
    return _success(_call_args(request))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def fail(request):
    return _failure(MOON_REASON)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def large(request):
    n, reason = _integer_argument(_call_args(request), "n")
    if reason is None and not 0 <= n <= MAX_LARGE:
        reason = "argument n is out of range"
    if reason is not None:
        return _failure(reason)
    return _success(("0123456789" * (n // 10 + 1))[:n])
