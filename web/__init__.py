"""The HTTP request source: JSON API, agents' pages and the customer portal.

Like ``cli/``, it only parses requests, asks ``rules`` and calls engine service
functions inside one ``runtime.unit()``; see :mod:`web.app` for the app factory.
"""
