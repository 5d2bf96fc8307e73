"""Model instances from rows read as JSON (``row_to_json``), as if the ORM had read them.

The statements that read several tables in one round trip (``debtors.selectors``, the case
timeline) return each row as JSON text beside the name of its table; this turns one back into
an instance, through the model's own field conversions and ``Model.from_db``.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.db import connection


def instance_from_json(model, text: str):
    """An instance of ``model`` from ``row_to_json`` of one of its table's rows."""
    data = json.loads(text, parse_float=Decimal)
    fields = model._meta.concrete_fields
    return model.from_db(
        connection.alias,
        [f.attname for f in fields],
        [f.to_python(data[f.column]) for f in fields],
    )
