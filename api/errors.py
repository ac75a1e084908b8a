"""One error shape for every refusal: `{"error": {"code": "...", "message": "..."}}`."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from steward.limits import RateLimited
from steward.store.database import unreachable

log = logging.getLogger("steward.api")

# How long a client should wait before trying again when the database is unreachable.
DATABASE_RETRY_AFTER_S = 5

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
    504: "timeout",
}


def _code_for(status: int) -> str:
    return _CODES.get(status) or HTTPStatus(status).phrase.lower().replace(" ", "_")


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"error": {"code": "not_found", "message": "no case RP-XYZ"}}]}
    )

    error: ErrorDetail


class ApiError(Exception):
    """Raised anywhere in a request to answer with `status` and the error shape."""

    def __init__(self, status: int, message: str, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _code_for(status)
        self.message = message
        self.headers = headers


def error_response(status: int, message: str, code: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code or _code_for(status), message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for item in exc.errors()[:5]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.message, exc.code, exc.headers)


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    return error_response(422, _validation_message(exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error; it has been logged", "internal")


async def _database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
    """Whatever needed the database (a token, a report, the directory) waits for it: 503, not 500 or
    401. Workflows carry on meanwhile and their projections retry until it is back."""
    if not unreachable(exc):
        return await _unexpected(request, exc)
    log.warning("database unreachable on %s %s: %s", request.method, request.url.path,
                getattr(exc, "orig", None) or exc)
    return error_response(503, "the database is unreachable; try again shortly", "unavailable",
                          {"Retry-After": str(DATABASE_RETRY_AFTER_S)})


async def _rate_limited(_request: Request, exc: RateLimited) -> JSONResponse:
    return error_response(429, exc.message, "rate_limited", {"Retry-After": str(exc.retry_after_s)})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
    for status in (401, 403, 404, 413, 422)
} | {503: {"model": ErrorBody,
           "description": "The database or Temporal is unreachable; try again shortly."}}


def workflow_responses(refused: str) -> dict[int | str, dict]:
    """The answers of routes that act on one long-running workflow: 409 when it refuses (`refused` says
    who refuses what), 503 when Temporal or the worker is down."""
    return ERROR_RESPONSES | {
        409: {"model": ErrorBody, "description": refused},
        503: {"model": ErrorBody, "description": "Temporal or the worker is unavailable."},
    }
