"""The decision ledger is append-only: PostgreSQL refuses UPDATE and DELETE on it.

The one exception is the sealer: it may fill the chain columns (seal_seq, prev_hash, row_hash)
of a row once, when they are all NULL, and change nothing else. TRUNCATE needs the table
owner's rights, which the application's role should not have in production.
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION compliance_decision_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the decision ledger is append-only: DELETE of row % refused', OLD.id
            USING ERRCODE = 'raise_exception';
    END IF;
    IF OLD.seal_seq IS NOT NULL OR OLD.prev_hash IS NOT NULL OR OLD.row_hash IS NOT NULL THEN
        RAISE EXCEPTION 'the decision ledger is append-only: row % is sealed', OLD.id
            USING ERRCODE = 'raise_exception';
    END IF;
    IF NEW.seal_seq IS NULL OR NEW.prev_hash IS NULL OR NEW.row_hash IS NULL THEN
        RAISE EXCEPTION 'the decision ledger is append-only: only sealing row % is allowed', OLD.id
            USING ERRCODE = 'raise_exception';
    END IF;
    IF (to_jsonb(NEW) - ARRAY['seal_seq', 'prev_hash', 'row_hash'])
        IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['seal_seq', 'prev_hash', 'row_hash']) THEN
        RAISE EXCEPTION 'the decision ledger is append-only: row % may not be changed', OLD.id
            USING ERRCODE = 'raise_exception';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_decision_append_only
    BEFORE UPDATE OR DELETE ON compliance_contactdecision
    FOR EACH ROW EXECUTE FUNCTION compliance_decision_append_only();
"""

DROP = r"""
DROP TRIGGER IF EXISTS compliance_decision_append_only ON compliance_contactdecision;
DROP FUNCTION IF EXISTS compliance_decision_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
