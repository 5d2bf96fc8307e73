"""The records an insider must not rewrite quietly are append-only in the database: contact
attempts (but for the columns that record how an attempt ended), every history table, the
reveal log and the portal's events. PostgreSQL refuses a DELETE, and an UPDATE that changes
any other column. (The decision ledger has its own trigger, compliance 0002.)

The application's role owns none of these tables, so it cannot switch the triggers off; the
owner role, which runs the migrations, can, and the ledger's anchors outside the database are
what catch that (``verify_ledger``).
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION append_only_row() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% is append-only: DELETE refused', TG_TABLE_NAME
            USING ERRCODE = 'raise_exception';
    END IF;
    -- The trigger's arguments name the columns an UPDATE may change.
    IF (to_jsonb(NEW) - TG_ARGV) IS DISTINCT FROM (to_jsonb(OLD) - TG_ARGV) THEN
        RAISE EXCEPTION '% is append-only: only % may change', TG_TABLE_NAME, TG_ARGV
            USING ERRCODE = 'raise_exception';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""

# Table: the columns an UPDATE may change (how an attempt ended; a link to a row that was
# deleted; a re-encryption with a new key).
FIXED = {
    # An outcome recorded on a pending attempt also sets when it happened and its loan.
    "compliance_contactattempt": [
        "outcome",
        "occurred_at",
        "loan_id",
        "completed_at",
        "breach",
        "breach_reasons",
        "breach_policy_id",
        "contact_point_id",
    ],
    "collections_app_reveallog": ["contact_point_id"],
    "collections_app_portalevent": ["link_id"],
}
HISTORY_EXTRA = {"debtors_historicaldebtor": ["national_id", "national_id_index"]}


def _history_tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' AND table_name LIKE '%%\\_historical%%' ORDER BY 1"
    )
    return [row[0] for row in cursor.fetchall()]


def _trigger(table: str, columns: list[str]) -> str:
    arguments = ", ".join(f"'{column}'" for column in columns)
    return (
        f"DROP TRIGGER IF EXISTS append_only ON {table}; "
        f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION append_only_row({arguments});"
    )


def tables(cursor) -> dict[str, list[str]]:
    found = dict(FIXED)
    for table in _history_tables(cursor):
        found[table] = ["history_user_id", *HISTORY_EXTRA.get(table, [])]
    return found


def forwards(apps, schema_editor):
    schema_editor.execute(FUNCTION, params=None)
    with schema_editor.connection.cursor() as cursor:
        for table, columns in tables(cursor).items():
            cursor.execute(_trigger(table, columns))


def backwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for table in tables(cursor):
            cursor.execute(f"DROP TRIGGER IF EXISTS append_only ON {table}")
        cursor.execute("DROP FUNCTION IF EXISTS append_only_row()")


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0010_hand_over_to_area_apps"),
        ("debtors", "0007_national_id_encrypted"),
        ("compliance", "0010_inbound_received"),
        ("messaging", "0004_inbound_answer"),
        ("cases", "0005_reveal_date_of_birth"),
        ("reminders", "0001_initial"),
        ("imports", "0001_initial"),
        ("selfservice", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
