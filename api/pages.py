"""Our browser pages served as files from their folders: no build step and no third-party host.

Each page (the console, the staff and resident app, the public board) is a folder of plain HTML, CSS
and JavaScript modules; `PageFiles.serve` answers its address (redirected to the trailing slash), its
`index.html` and its assets, with one set of security headers: everything from this origin only.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from api.errors import ApiError

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
MEDIA_TYPES = {
    ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html",
    ".png": "image/png", ".webmanifest": "application/manifest+json", ".json": "application/json",
}
SHARED = Path(__file__).resolve().parent / "page_languages"
"""Files every page uses, served beside each page's own (a page imports them as its own assets)."""


class PageFiles:
    def __init__(self, folder: Path, headers: dict[str, str] | None = None) -> None:
        self.files = {path.name: path for place in (SHARED, folder) for path in place.iterdir()
                      if path.suffix in MEDIA_TYPES}
        self.headers = SECURITY_HEADERS | (headers or {})

    def response(self, name: str) -> Response:
        path = self.files[name]
        media_type = MEDIA_TYPES[path.suffix]
        textual = media_type.startswith("text/") or media_type.endswith(("+xml", "json"))
        return Response(path.read_bytes(), media_type=media_type + ("; charset=utf-8" if textual else ""),
                        headers=self.headers)

    def serve(self, router: APIRouter, prefix: str, noun: str, at_root: tuple[str, ...] = ()) -> None:
        """`prefix` → `prefix/` (index.html), `prefix/<name>` for the files in `at_root` (a service worker
        must sit at the root of its scope), and `prefix/assets/<name>` for every other file."""
        private = {"index.html", *at_root}

        async def redirect() -> RedirectResponse:
            return RedirectResponse(f"{prefix}/", status_code=307)

        async def page() -> Response:
            return self.response("index.html")

        async def asset(name: str) -> Response:
            if name not in self.files or name in private:
                raise ApiError(404, f"no {noun} asset {name}")
            return self.response(name)

        router.add_api_route(prefix, redirect, methods=["GET"], include_in_schema=False)
        router.add_api_route(f"{prefix}/", page, methods=["GET"], include_in_schema=False)
        for name in at_root:
            router.add_api_route(f"{prefix}/{name}", self._endpoint(name), methods=["GET"],
                                 include_in_schema=False)
        router.add_api_route(f"{prefix}/assets/{{name}}", asset, methods=["GET"], include_in_schema=False)

    def _endpoint(self, name: str):
        async def file() -> Response:
            return self.response(name)

        return file
