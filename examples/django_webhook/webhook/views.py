"""The Celery 2.2 docs' multiply webhook, ported to today's Django."""
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods


def _integer_argument(params, name):
    """Returns (value, None) or (None, reason): bad input is a failure, not a 500."""
    raw = params.get(name)
    if raw is None:
        return None, f"missing argument {name}"
    try:
        return int(raw), None
    except ValueError:
        return None, f"argument {name} is not an integer: {raw!r}"


# Webhook callers have no CSRF token; csrf_exempt is what lets their POSTs in.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def multiply(request):
    params = request.POST if request.method == "POST" else request.GET
    x, reason = _integer_argument(params, "x")
    if reason is None:
        y, reason = _integer_argument(params, "y")
    if reason is not None:
        return JsonResponse({"status": "failure", "reason": reason})
    return JsonResponse({"status": "success", "retval": x * y})
