"""The web server's own access and error logs never hold a self-service token."""

from __future__ import annotations

import datetime as dt
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config

from portal.gunicorn_logger import TokenMaskingLogger

ROOT = Path(__file__).resolve().parents[2]
TOKEN = ".eJyrVkpRsjI0MDXUUcpRsjI0MjExsDAwNDCwsDA0MtSpBQBDmQU0:1vN2aB:Zx9Kq3LwQ"


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


def _logger() -> TokenMaskingLogger:
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s %(U)s "%(f)s" %({referer}i)s')
    return TokenMaskingLogger(cfg)


def test_the_access_log_masks_the_token_in_the_request_line_path_and_referer():
    log = _logger()
    capture = _Capture()
    log.access_log.addHandler(capture)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/p/{TOKEN}/",
        "PATH_INFO": f"/p/{TOKEN}/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://collections.example.com/p/{TOKEN}/",
    }
    resp = SimpleNamespace(status="302 Found", sent=0, headers=[])
    req = SimpleNamespace(headers=[("REFERER", f"https://collections.example.com/p/{TOKEN}/")])

    log.access(resp, req, environ, dt.timedelta(milliseconds=12))

    (line,) = capture.lines
    assert TOKEN not in line
    assert TOKEN[:20] not in line
    assert line.count("[masked]") == 4
    assert '"GET /p/.eJy' in line and " 302 " in line


def test_the_error_log_masks_the_token():
    log = _logger()
    capture = _Capture()
    log.error_log.addHandler(capture)

    log.error("Error handling request %s", f"/p/{TOKEN}/")

    assert capture.lines and TOKEN not in capture.lines[-1]
    assert "[masked]" in capture.lines[-1]


def test_the_web_server_uses_the_masking_logger():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["logger_class"] == "portal.gunicorn_logger.TokenMaskingLogger"
