# SPDX-License-Identifier: MIT
"""Celery 2.2's HTTP callback task (celery.task.http.HttpDispatch) for Celery 5, on the
standard library only.

Celery 4 dropped it; the webhook protocol is PROTOCOL.md sections 1 and 2: GET sends the
arguments as the query, other methods as an urlencoded form; the answer is
{"status": "success", "retval": ...} or {"status": "failure", "reason": ...}.
"""
import json
import urllib.error
import urllib.parse
import urllib.request

import celery

# Keep the body of an HTTP error readable in a task's result, not whole.
ERROR_BODY_CAP = 1024


class InvalidResponseError(Exception):
    """The webhook's answer is not the protocol's JSON object."""


class RemoteExecuteError(Exception):
    """The webhook answered {"status": "failure"}; the message is its reason."""


class UnknownStatusError(InvalidResponseError):
    """The webhook answered a status other than "success" or "failure"."""


class HttpStatusError(Exception):
    """The webhook answered a status code other than 2xx (without a failure reason)."""


class ForbiddenHostError(Exception):
    """The URL's host is not one http_dispatch may call."""


def extract_response(raw_response):
    """The retval of a webhook's answer, or the error it stands for (PROTOCOL.md section 2,
    http_task's column: every malformed answer is an InvalidResponseError)."""
    if not raw_response:
        raise InvalidResponseError("Empty response")
    try:
        payload = json.loads(raw_response)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidResponseError(str(exc))
    if not isinstance(payload, dict):
        raise InvalidResponseError(f"The answer is JSON but not an object: {raw_response[:80]!r}")
    if "status" not in payload:
        raise InvalidResponseError("The answer has no status")
    status = payload["status"]
    if status == "success":
        if "retval" not in payload:
            raise InvalidResponseError("A success without retval")
        return payload["retval"]
    if status == "failure":
        reason = payload.get("reason")
        raise RemoteExecuteError("" if reason is None else str(reason))
    raise UnknownStatusError(str(status))


class HttpDispatch:
    user_agent = f"celery/{celery.__version__} http_dispatch"
    timeout = 30.0

    def __init__(self, url, method="GET", task_kwargs=None, timeout=None, allowed_hosts=None):
        self.url = url
        self.method = (method or "GET").upper()
        self.task_kwargs = task_kwargs or {}
        if timeout is not None:
            self.timeout = float(timeout)
        self.allowed_hosts = allowed_hosts

    def _checked_url(self):
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"http_dispatch needs an http(s) URL, not {self.url!r}")
        if self.allowed_hosts is not None and parts.hostname not in self.allowed_hosts:
            raise ForbiddenHostError(f"http_dispatch may not call host {parts.hostname!r}")
        return parts

    def dispatch(self):
        parts = self._checked_url()
        params = [(str(k), str(v)) for k, v in self.task_kwargs.items()]
        data = None
        url = self.url
        if self.method == "GET":
            query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + params
            url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
        else:
            data = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(url, data=data, method=self.method)
        request.add_header("User-Agent", self.user_agent)
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            body = exc.read(ERROR_BODY_CAP)
            # A failure answer sent with an error status still carries the remote reason.
            try:
                payload = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                payload = None
            if isinstance(payload, dict) and payload.get("status") == "failure":
                reason = payload.get("reason")
                raise RemoteExecuteError("" if reason is None else str(reason))
            raise HttpStatusError(f"HTTP {exc.code} {exc.reason}: {body.decode(errors='replace')}")
        return extract_response(body)
