"""``manage.py rotate_field_keys``: encrypt every national id again with the first key of
``FIELD_ENCRYPTION_KEY`` and recompute its search key, in batches (debtors and their history).

Rotation: put the new key first in ``FIELD_ENCRYPTION_KEY`` (keep the old ones after it), run
this, then drop the old keys. Running it twice changes nothing a reader can see.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from debtors import crypto
from debtors.models import Debtor

BATCH = 2000


def _rotate(table: str, key: str) -> int:
    done, last = 0, 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {key}, national_id FROM {table} "  # noqa: S608 - names from the models
                f"WHERE national_id <> '' AND {key} > %s ORDER BY {key} LIMIT {BATCH} "
                "FOR UPDATE",
                [last],
            )
            rows = cursor.fetchall()
            if not rows:
                return done
            cursor.execute(
                f"UPDATE {table} t SET national_id = v.token, national_id_index = v.idx "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(pk, token, idx) "
                f"WHERE t.{key} = v.pk",
                [
                    [pk for pk, _token in rows],
                    [crypto.rotate(token) for _pk, token in rows],
                    [crypto.blind_index(crypto.decrypt(token)) for _pk, token in rows],
                ],
            )
        done += len(rows)
        last = rows[-1][0]


class Command(BaseCommand):
    help = "Encrypt every national id again with the first FIELD_ENCRYPTION_KEY key."

    def handle(self, *args, **options):
        current = _rotate(Debtor._meta.db_table, "id")
        history = _rotate(Debtor.history.model._meta.db_table, "history_id")
        self.stdout.write(f"{current} national ids and {history} historical ones re-encrypted.")
