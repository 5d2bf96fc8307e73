"""Gunicorn's logger with self-service tokens masked (``logger_class`` in ``gunicorn.conf.py``).

Gunicorn writes its access log itself, outside Django's ``LOGGING``: without this, every
opened link would leave its token in the access log (the request line, the path, the referer).
The error log gets the same filter as Django's loggers.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from portal.logmask import PortalTokenFilter, mask


class TokenMaskingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        if not any(isinstance(f, PortalTokenFilter) for f in self.error_log.filters):
            self.error_log.addFilter(PortalTokenFilter())

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: mask(value) if isinstance(value, str) else value for key, value in atoms.items()
        }
