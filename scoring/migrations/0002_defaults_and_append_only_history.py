"""The default band rules (the likeliest payers get the gentle strategy and the back of the
queue, the least likely the firm strategy and the front), and the append-only trigger of
collections_app 0011 on this app's history tables."""

from django.db import migrations

# Band: (the reminder strategy's risk band, queue priority weight).
DEFAULT_RULES = {
    "A": ("low", -100),
    "B": ("low", -50),
    "C": ("medium", 0),
    "D": ("high", 100),
    "E": ("high", 150),
}
HISTORY_TABLES = ("scoring_historicalscoremodel", "scoring_historicalbandrule")


def forwards(apps, schema_editor):
    BandRule = apps.get_model("scoring", "BandRule")
    for band, (reminder_band, weight) in DEFAULT_RULES.items():
        BandRule.objects.get_or_create(
            band=band, defaults={"reminder_band": reminder_band, "priority_weight": weight}
        )
    for table in HISTORY_TABLES:
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS append_only ON {table}; "
            f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION append_only_row('history_user_id');",
            params=None,
        )


def backwards(apps, schema_editor):
    for table in HISTORY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS append_only ON {table}", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0001_initial"),
        ("collections_app", "0013_attempt_outcome_once"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
