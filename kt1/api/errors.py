"""One handler renders every API error as {"code", "message", "detail"}."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kt1.core.errors import ApplicationError


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, Http404 | exceptions.NotFound):
        return Response({"code": "not_found", "message": _("Không tìm thấy."), "detail": {}}, status=status.HTTP_404_NOT_FOUND)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        first = _first_message(detail)
        response.data = {"code": "invalid", "message": first or _("Dữ liệu không hợp lệ."), "detail": detail}
    else:
        code = getattr(exc, "default_code", "error")
        message = response.data.get("detail", "") if isinstance(response.data, dict) else str(response.data)
        response.data = {"code": code, "message": str(message), "detail": {}}
    return response


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            msg = _first_message(value)
            if msg:
                return f"{key}: {msg}" if key != "non_field_errors" else msg
    if isinstance(detail, list):
        for value in detail:
            msg = _first_message(value)
            if msg:
                return msg
    if isinstance(detail, str):
        return detail
    return ""
