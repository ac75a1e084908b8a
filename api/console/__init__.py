"""The supervisor console's page, styles and scripts, served by `api.routes.console` (package data)."""
