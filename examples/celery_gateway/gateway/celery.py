# SPDX-License-Identifier: MIT
"""The cluster's Celery app, configured from gateway.settings (the CELERY_ names).

Workers start it as `/usr/bin/python3 -m celery -A gateway worker`; the gateway imports it.
"""
import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")

app = Celery("gateway", include=["tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
# The gateway's threads and django-celery-results' views use celery.current_app, which is
# thread-local with the default app as its fallback: make this app that fallback.
app.set_default()


# How often a worker's event loop wakes up at the least (seconds).
HUB_TICK = float(os.environ.get("CELERY_HUB_TICK", 0.02))


class WakeTheLoop(bootsteps.StartStopStep):
    """Wakes the worker's event loop every HUB_TICK seconds.

    With late acknowledgement on Redis, a worker whose prefetch window is full stops
    reading the queue; once a task is acknowledged it only asks for the next message at
    the loop's next turn, and an idle loop sleeps up to a second per turn in poll()
    (celery/celery#4378, #7718): seconds between tasks. A short timer caps that sleep.
    A consumer step, not a worker step: the consumer clears the loop's timers whenever it
    reconnects to the broker (after a Redis restart), and starts its steps again.
    """

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, c, **kwargs):
        super().__init__(c, **kwargs)
        self.entry = None

    def start(self, c):
        if c.timer is not None:
            self.entry = c.timer.call_repeatedly(HUB_TICK, _nothing)

    def stop(self, c):
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None

    shutdown = stop


def _nothing():
    pass


app.steps["consumer"].add(WakeTheLoop)
