"""gunicorn settings for production: `gunicorn wsgi:app` reads this file."""

import gc

bind = "127.0.0.1:8000"
workers = 2
# Behind a reverse proxy: trust its X-Forwarded-* headers from localhost only.
forwarded_allow_ips = "127.0.0.1"


def post_fork(server, worker):
    # Objects loaded at start-up never die: keep them out of the full collections that
    # otherwise pause a request for ~100 ms every few hundred saves (bench/live_save_bench.py).
    gc.freeze()
