"""`GET /metrics`: Prometheus text for a scraper holding `STEWARD_METRICS_TOKEN` (404 while unset)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from api.errors import error_response
from steward import metrics

router = APIRouter(tags=["operations"])


@router.get("/metrics", summary="Prometheus metrics (bearer: the metrics token)", include_in_schema=False)
async def scrape(request: Request) -> Response:
    refused = metrics.refusal(request.app.state.settings.metrics_token, request.headers.get("authorization"))
    if refused:
        return error_response(*refused)
    body = await asyncio.to_thread(metrics.exposition, request.app.state.open_cases)
    return Response(body, media_type=metrics.CONTENT_TYPE)
