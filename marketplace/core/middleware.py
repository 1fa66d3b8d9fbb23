"""One place that refuses what no view can store: NUL bytes and malformed encodings in the path, the query string
and form or JSON bodies. PostgreSQL refuses NUL in text, and invalid UTF-8 would only fail deeper down, as a 500.

API paths answer 400 with the usual error shape; pages get the plain 400 page.
"""

from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.defaults import bad_request

from marketplace.core.api.errors import error_body

CHECKED_BODIES = ("application/json", "application/x-www-form-urlencoded", "text/")


def _bad_bytes(raw: bytes) -> str | None:
    if b"\x00" in raw:
        return "contains a NUL byte"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "is not valid UTF-8"
    return None


def _wsgi_bytes(text: str) -> bytes:
    """WSGI passes raw bytes as latin-1 text; a test client may pass real text."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _bad_percent_encoded(text: str) -> str | None:
    """Check a percent-encoded string (query string, form body) before and after decoding."""
    raw = _wsgi_bytes(text)
    return _bad_bytes(raw) or _bad_bytes(unquote_to_bytes(raw.replace(b"+", b" ")))


def _refuse(request: HttpRequest, where: str, problem: str) -> HttpResponse:
    advice = "send less at a time" if "larger" in problem else "send text in UTF-8 without NUL characters"
    message = f"The request's {where} {problem}; {advice}."
    if request.path_info.startswith("/api/"):
        return JsonResponse(error_body("malformed_request", message, {where: [message]}), status=400)
    return bad_request(request, exception=None)


class MalformedInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = self.check(request)
        if problem:
            return _refuse(request, *problem)
        return self.get_response(request)

    def check(self, request: HttpRequest) -> tuple[str, str] | None:
        # The server has decoded %XX already and hands the path as latin-1 text of the raw bytes; Django then
        # re-encodes bytes that are not UTF-8 as %XX in path_info, so both are checked.
        problem = _bad_bytes(_wsgi_bytes(request.META.get("PATH_INFO", ""))) or _bad_bytes(
            unquote_to_bytes(request.path_info.encode("utf-8", "surrogatepass"))
        )
        if problem:
            return "path", problem
        problem = _bad_percent_encoded(request.META.get("QUERY_STRING", ""))
        if problem:
            return "query string", problem
        content_type = (request.content_type or "").lower()
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and content_type.startswith(CHECKED_BODIES):
            try:
                body = request.body  # kept by Django: the view still reads it
            except RequestDataTooBig:
                return "body", f"is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"
            if content_type == "application/x-www-form-urlencoded":
                problem = _bad_percent_encoded(body.decode("latin-1"))
            else:
                problem = _bad_bytes(body)
            if problem:
                return "body", problem
        elif request.method == "POST" and content_type == "multipart/form-data":
            try:
                fields, files = request.POST, request.FILES
            except MultiPartParserError:
                return "body", "is not a well-formed multipart form"
            for name, values in fields.lists():
                for value in [name, *values]:
                    if "\x00" in value:
                        return "body", "contains a NUL character in a form field"
            for upload in files.values():
                if "\x00" in (upload.name or ""):
                    return "body", "contains a NUL character in a file name"
        return None
