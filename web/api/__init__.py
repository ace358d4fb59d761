"""JSON REST API routers, one per domain, all under ``/api``."""
