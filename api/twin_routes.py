"""Twin routes written once: one function serves every route of a resource that differs from its twins
only in a few values (a case's actions, the directory's tables, pausing and resuming a schedule).

FastAPI reads what an endpoint takes from its signature; `endpoint` gives the one function a signature
per route, so each twin keeps its own name (its OpenAPI operation id), types, dependencies and docs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

REQUIRED = inspect.Parameter.empty


def endpoint(name: str, run: Callable[..., Any], doc: str | None, returns: Any,
             **parameters: Any) -> Callable[..., Any]:
    """`run(**arguments)` as the endpoint `name` taking `parameters`: each an annotation, or a pair of
    an annotation and its default. A plain `run` stays plain (FastAPI runs it in its thread pool)."""
    if inspect.iscoroutinefunction(run):
        async def route(**arguments: Any) -> Any:
            return await run(**arguments)
    else:
        def route(**arguments: Any) -> Any:
            return run(**arguments)
    route.__name__ = route.__qualname__ = name
    route.__doc__ = doc
    route.__signature__ = inspect.Signature(
        [inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY,
                           annotation=value[0] if isinstance(value, tuple) else value,
                           default=value[1] if isinstance(value, tuple) else REQUIRED)
         for key, value in parameters.items()],
        return_annotation=returns,
    )
    return route
