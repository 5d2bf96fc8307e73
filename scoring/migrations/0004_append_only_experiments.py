"""The experiments' history tables and the arm assignments are append-only, as every record of
what happened (collections_app 0011): a case's arm is recorded when it enters and never
changed or deleted."""

from django.db import migrations

TABLES = {
    "scoring_historicalexperiment": ["history_user_id"],
    "scoring_historicalarm": ["history_user_id"],
    "scoring_armassignment": [],
}


def forwards(apps, schema_editor):
    for table, free in TABLES.items():
        arguments = ", ".join(f"'{column}'" for column in free)
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS append_only ON {table}; "
            f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION append_only_row({arguments});",
            params=None,
        )


def backwards(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS append_only ON {table}", params=None)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0003_experiments")]

    operations = [migrations.RunPython(forwards, backwards)]
