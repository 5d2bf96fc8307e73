"""The WSGI entry point of the web process (gunicorn, ``runserver``).

Each process loads, before it serves, what its first request would otherwise load while a
client waits: the URLconf with every view (about half a second on a small machine), the
translation catalogues and the broker's transport. A provider's webhook must be answered
within a second, also right after a deploy or a worker restart.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collections_app.settings")

application = get_wsgi_application()

# Imported after the application is set up: they need the settings and the app registry.
from collections_app.warmup import warm_up  # noqa: E402

warm_up()
