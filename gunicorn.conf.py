"""gunicorn's configuration: `gunicorn -c gunicorn.conf.py -w 4 -b 0.0.0.0:8050`.

Command-line options override these settings. The access log goes to stdout, the error
log to stderr; both mask invitation tokens (dashboard/request_logs.py). The environment's
configuration is checked before any worker starts, so a wrong value stops gunicorn with a
French message instead of a worker that fails to boot again and again.
"""

import os
import sys

from gunicorn import glogging

from dashboard import logs, request_logs

wsgi_app = "dashboard.wsgi:server"
accesslog = "-"


class Logger(glogging.Logger):
    """gunicorn's logger with invitation tokens masked in both of its logs."""

    def setup(self, cfg):
        super().setup(cfg)
        request_logs.install(self.error_log, self.access_log)
        if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
            # One JSON object per line; the app writes the request log itself (route
            # names, no raw request line: the OIDC callback's query holds a code).
            for handler in self.error_log.handlers:
                handler.setFormatter(logs.JsonFormatter())
            self.access_log.disabled = True


def child_exit(server, worker):
    # PROMETHEUS_MULTIPROC_DIR: a dead worker's live gauges leave the exposition
    # (its counters stay summed). See dashboard/observability.py.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


logger_class = Logger


def on_starting(server):
    from dashboard.config import ConfigurationError, Settings

    try:
        Settings.from_env().check()
    except ConfigurationError as exc:
        sys.exit(f"Erreur : {exc}")
