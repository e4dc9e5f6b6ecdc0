"""gunicorn's configuration: `gunicorn -c gunicorn.conf.py -w 4 -b 0.0.0.0:8050`.

Command-line options override these settings. The access log goes to stdout, the error
log to stderr; both mask invitation tokens (dashboard/request_logs.py). The environment's
configuration is checked before any worker starts, so a wrong value stops gunicorn with a
French message instead of a worker that fails to boot again and again.
"""

import sys

from gunicorn import glogging

from dashboard import request_logs

wsgi_app = "dashboard.wsgi:server"
accesslog = "-"


class Logger(glogging.Logger):
    """gunicorn's logger with invitation tokens masked in both of its logs."""

    def setup(self, cfg):
        super().setup(cfg)
        request_logs.install(self.error_log, self.access_log)


logger_class = Logger


def on_starting(server):
    from dashboard.config import ConfigurationError, Settings

    try:
        Settings.from_env().check()
    except ConfigurationError as exc:
        sys.exit(f"Erreur : {exc}")
