"""Health checks and error handlers: API paths get the JSON error shape, pages get HTML."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from marketplace.core.api.errors import error_body


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("not_found", "Nothing exists at this address."), status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest):
    if _wants_json(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side; it has been logged."), status=500
        )
    return render(request, "500.html", status=500)


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
