"""ops — running it: ``/healthz`` and ``/metrics``, Prometheus counters,
structured logs with redaction.

May import: ``bot.settings``, ``bot.errors``.
"""
