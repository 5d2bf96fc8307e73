"""A contact attempt's circumstances are fixed once its outcome is recorded.

0011 let an UPDATE change when an attempt happened, its loan and its breach judgement at any
time, because recording the outcome of a pending attempt (a call the gate permitted) sets
them. Now only a pending attempt may take them; a finished one may only move to a later
outcome (a delivery report: sent, then delivered or bounced), take its completion instant,
and lose its contact point when that is deleted. A finished attempt never becomes pending
again.
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION contact_attempt_row() RETURNS trigger AS $$
DECLARE
    free text[] := ARRAY['outcome', 'completed_at', 'contact_point_id'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% is append-only: DELETE refused', TG_TABLE_NAME
            USING ERRCODE = 'raise_exception';
    END IF;
    IF OLD.outcome = 'pending' THEN
        free := free || ARRAY['occurred_at', 'loan_id', 'breach', 'breach_reasons',
                              'breach_policy_id'];
    ELSIF NEW.outcome = 'pending' THEN
        RAISE EXCEPTION '% is append-only: a recorded outcome cannot become pending again',
            TG_TABLE_NAME USING ERRCODE = 'raise_exception';
    END IF;
    IF (to_jsonb(NEW) - free) IS DISTINCT FROM (to_jsonb(OLD) - free) THEN
        RAISE EXCEPTION '% is append-only: only % may change', TG_TABLE_NAME, free
            USING ERRCODE = 'raise_exception';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""

TABLE = "compliance_contactattempt"
# 0011's trigger on the table, for going back.
OLD_FREE = [
    "outcome",
    "occurred_at",
    "loan_id",
    "completed_at",
    "breach",
    "breach_reasons",
    "breach_policy_id",
    "contact_point_id",
]


def forwards(apps, schema_editor):
    schema_editor.execute(FUNCTION, params=None)
    schema_editor.execute(
        f"DROP TRIGGER IF EXISTS append_only ON {TABLE}; "
        f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION contact_attempt_row();",
        params=None,
    )


def backwards(apps, schema_editor):
    arguments = ", ".join(f"'{column}'" for column in OLD_FREE)
    schema_editor.execute(
        f"DROP TRIGGER IF EXISTS append_only ON {TABLE}; "
        f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        f"FOR EACH ROW EXECUTE FUNCTION append_only_row({arguments}); "
        "DROP FUNCTION IF EXISTS contact_attempt_row();",
        params=None,
    )


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0012_erasable_personal_columns")]

    operations = [migrations.RunPython(forwards, backwards)]
