"""An index for the admin's and the work queue's name-prefix search on PostgreSQL.

Django's ``istartswith`` compiles to ``UPPER(full_name::text) LIKE UPPER('abc%')``; this
expression index with ``text_pattern_ops`` serves it at any table size. SQLite (the demo)
does without.
"""

from django.db import migrations

INDEX = "debtors_debtor_name_prefix"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {INDEX} ON debtors_debtor '
            '(UPPER("full_name"::text) text_pattern_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("debtors", "0002_alter_repaymentplan_options")]
    operations = [migrations.RunPython(create, drop)]
