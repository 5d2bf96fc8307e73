"""Load what a process's first request would otherwise load (see ``collections_app.wsgi``).

Nothing here connects to anything: a broker or a database that is down at start-up is
noticed by the request that needs it, as before.
"""

from __future__ import annotations

from celery import current_app
from django.conf import settings
from django.urls import reverse
from django.utils import translation


def warm_up() -> None:
    # The URLconf imports every view module, and reversing a name builds the lookup tables.
    reverse("healthz")
    for code, _name in settings.LANGUAGES:
        # Activating a language loads its catalogues.
        translation.activate(code)
    translation.deactivate()
    # Celery imports its transport on the first send (a webhook that queues a task).
    with current_app.connection_for_write() as connection:
        connection.transport  # noqa: B018 - the property imports and builds the transport
