#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tasks.http_dispatch's decoder and requests (examples/celery_gateway/http_dispatch.py),
case by case as PROTOCOL.md section 2 lists them, against a stdlib webhook on 127.0.0.1.
No cluster needed: HttpDispatch is called directly.

    /usr/bin/python3 tests/celery/test_http_dispatch.py
"""
import http.server
import json
import os
import sys
import threading
import unittest
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "examples", "celery_gateway"))

from http_dispatch import (  # noqa: E402
    ForbiddenHostError,
    HttpDispatch,
    HttpStatusError,
    InvalidResponseError,
    RemoteExecuteError,
    UnknownStatusError,
    extract_response,
)

# path -> (status code, body)
ANSWERS = {
    "/success": (200, b'{"status": "success", "retval": 42}'),
    "/failure": (200, b'{"status": "failure", "reason": "Invalid moon alignment."}'),
    "/failure-500": (500, b'{"status": "failure", "reason": "Disk on fire."}'),
    "/error-500": (500, b"<html>Internal Server Error</html>"),
    "/empty": (200, b""),
}


class Webhook(http.server.BaseHTTPRequestHandler):
    def reply(self, fields):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/echo":
            code, body = 200, json.dumps(
                {"status": "success", "retval": {"method": self.command, "fields": fields,
                                                 "content_type": self.headers.get("Content-Type"),
                                                 "user_agent": self.headers.get("User-Agent")}}
            ).encode()
        else:
            code, body = ANSWERS.get(path, (404, b"not found"))
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.reply(urllib.parse.parse_qs(self.rfile.read(length).decode()))

    do_PUT = do_POST

    def log_message(self, *args):
        pass


class ExtractResponse(unittest.TestCase):
    def test_success_returns_retval(self):
        self.assertEqual(extract_response(b'{"status": "success", "retval": [1, 2]}'), [1, 2])

    def test_success_with_null_retval(self):
        self.assertIsNone(extract_response(b'{"status": "success", "retval": null}'))

    def test_success_without_retval(self):
        with self.assertRaisesRegex(InvalidResponseError, "without retval"):
            extract_response(b'{"status": "success"}')

    def test_failure_carries_the_reason(self):
        with self.assertRaises(RemoteExecuteError) as caught:
            extract_response(b'{"status": "failure", "reason": "Invalid moon alignment."}')
        self.assertEqual(str(caught.exception), "Invalid moon alignment.")

    def test_failure_without_reason(self):
        with self.assertRaises(RemoteExecuteError) as caught:
            extract_response(b'{"status": "failure"}')
        self.assertEqual(str(caught.exception), "")

    def test_unknown_status(self):
        for status in ("u.u.u.u", "SUCCESS"):
            with self.assertRaises(UnknownStatusError) as caught:
                extract_response(json.dumps({"status": status}).encode())
            self.assertEqual(str(caught.exception), status)
            self.assertIsInstance(caught.exception, InvalidResponseError)

    def test_malformed_answers(self):
        for body in (b"", b"{'#{:'''", b"[1, 2]", b'{"retval": 1}', b'{"status": "success", "retval": 1} x'):
            with self.subTest(body=body), self.assertRaises(InvalidResponseError):
                extract_response(body)


class Dispatch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def dispatch(self, path, method="GET", kwargs=None, **options):
        return HttpDispatch(self.base + path, method, kwargs or {}, **options).dispatch()

    def test_get_sends_the_kwargs_as_the_query_after_the_urls_own(self):
        echo = self.dispatch("/echo?a=0", "GET", {"x": 10, "y": "ten"})
        self.assertEqual(echo["method"], "GET")
        self.assertEqual(echo["fields"], {"a": ["0"], "x": ["10"], "y": ["ten"]})
        self.assertTrue(echo["user_agent"].startswith("celery/"))

    def test_post_sends_a_form(self):
        echo = self.dispatch("/echo", "post", {"x": 10})
        self.assertEqual((echo["method"], echo["fields"]), ("POST", {"x": ["10"]}))
        self.assertEqual(echo["content_type"], "application/x-www-form-urlencoded")

    def test_other_methods_send_a_form_too(self):
        self.assertEqual(self.dispatch("/echo", "PUT", {"k": "v"})["method"], "PUT")

    def test_success_and_failure(self):
        self.assertEqual(self.dispatch("/success"), 42)
        with self.assertRaisesRegex(RemoteExecuteError, "^Invalid moon alignment.$"):
            self.dispatch("/failure")

    def test_failure_with_an_error_status_keeps_the_reason(self):
        with self.assertRaisesRegex(RemoteExecuteError, "^Disk on fire.$"):
            self.dispatch("/failure-500")

    def test_error_status(self):
        with self.assertRaisesRegex(HttpStatusError, "^HTTP 500 .*Internal Server Error"):
            self.dispatch("/error-500")
        with self.assertRaisesRegex(HttpStatusError, "^HTTP 404"):
            self.dispatch("/nowhere")

    def test_empty_answer(self):
        with self.assertRaisesRegex(InvalidResponseError, "Empty response"):
            self.dispatch("/empty")

    def test_hosts_outside_the_allowed_list_are_refused(self):
        with self.assertRaises(ForbiddenHostError):
            HttpDispatch("http://192.0.2.1/", allowed_hosts=["127.0.0.1"]).dispatch()
        self.assertEqual(self.dispatch("/success", allowed_hosts=["127.0.0.1"]), 42)

    def test_only_http_urls(self):
        with self.assertRaisesRegex(ValueError, "http"):
            HttpDispatch("file:///etc/passwd").dispatch()


if __name__ == "__main__":
    unittest.main()
