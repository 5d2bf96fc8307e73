"""On PostgreSQL, the index the gate reads a debtor's history from covers every column it reads.

``INCLUDE`` columns exist only on PostgreSQL; declaring them on the model would warn on the
SQLite demo database, so the covering form is created here and the model declares the keys.
"""

from django.db import migrations

COVERING = """
DROP INDEX IF EXISTS attempt_debtor_channel_at;
CREATE INDEX attempt_debtor_channel_at ON compliance_contactattempt
    (debtor_id, channel, occurred_at) INCLUDE (direction, outcome, loan_id, contact_point_id);
"""
PLAIN = """
DROP INDEX IF EXISTS attempt_debtor_channel_at;
CREATE INDEX attempt_debtor_channel_at ON compliance_contactattempt
    (debtor_id, channel, occurred_at);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COVERING, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PLAIN, params=None)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_policy_presets")]

    operations = [migrations.RunPython(forwards, backwards)]
