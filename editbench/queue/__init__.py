"""The queue: how work is addressed, sent and brought forward.

``names`` (queue names and Redis key prefixes), ``broker`` (where the broker is),
``connection`` (the process-wide Redis client), ``app`` (the Celery application; its settings
are the top-level ``editbench.celeryconfig``), ``claimcheck`` (edited images stored by key, so
messages carry only ids) and ``dispatch`` (chords per category, judge batches, the sweeper).

Tasks are addressed by name (``editbench.edit_sample`` ...), so this package never imports the
worker code that implements them: ``editbench.workers`` imports the queue, not the reverse.
"""
