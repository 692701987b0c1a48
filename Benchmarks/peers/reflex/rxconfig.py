"""Reflex configuration of the bench peer app: backend only, no telemetry, no sitemap."""

import reflex as rx

config = rx.Config(
    app_name="bench_app",
    telemetry_enabled=False,
    disable_plugins=[rx.plugins.SitemapPlugin],
)
