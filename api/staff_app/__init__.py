"""The staff app: page, styles, scripts, manifest, icons and service worker, served by
`api.routes.staff_app` (package data)."""
