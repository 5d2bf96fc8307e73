"""Append-only records allow one more change: erasing a personal column (to empty or NULL),
as ``debtors.erasure`` does past the retention period or on the debtor's request. A trigger
argument ``~column`` names such a column; any other change to it is refused, as before.
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION append_only_row() RETURNS trigger AS $$
DECLARE
    free text[] := ARRAY[]::text[];
    erasable text[] := ARRAY[]::text[];
    arg text;
    new_row jsonb;
    old_row jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% is append-only: DELETE refused', TG_TABLE_NAME
            USING ERRCODE = 'raise_exception';
    END IF;
    -- Arguments: columns an UPDATE may change; ``~column``: a column it may only erase.
    IF TG_NARGS > 0 THEN
        FOREACH arg IN ARRAY TG_ARGV LOOP
            IF left(arg, 1) = '~' THEN
                erasable := erasable || substr(arg, 2);
            ELSE
                free := free || arg;
            END IF;
        END LOOP;
    END IF;
    new_row := to_jsonb(NEW) - free;
    old_row := to_jsonb(OLD) - free;
    FOREACH arg IN ARRAY erasable LOOP
        IF (new_row -> arg) IS DISTINCT FROM (old_row -> arg)
                AND (new_row -> arg) NOT IN ('""'::jsonb, 'null'::jsonb) THEN
            RAISE EXCEPTION '% is append-only: % may only be erased', TG_TABLE_NAME, arg
                USING ERRCODE = 'raise_exception';
        END IF;
        new_row := new_row - arg;
        old_row := old_row - arg;
    END LOOP;
    IF new_row IS DISTINCT FROM old_row THEN
        RAISE EXCEPTION '% is append-only: only % may change', TG_TABLE_NAME, free
            USING ERRCODE = 'raise_exception';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""

HISTORY = ["history_user_id"]
# Table: (columns an UPDATE may change, as in 0011; personal columns it may erase).
TABLES = {
    "debtors_historicaldebtor": (
        [*HISTORY, "national_id", "national_id_index"],
        [
            "full_name",
            "date_of_birth",
            "region",
            "dispute_reason",
            "bankruptcy_reason",
            "deceased_reason",
            "cease_communication_reason",
            "hardship_reason",
            "legal_hold_reason",
        ],
    ),
    "debtors_historicalcontactpoint": (HISTORY, ["value", "label", "owner_name"]),
    "collections_app_historicalnote": (HISTORY, ["body"]),
    "collections_app_historicalcallback": (HISTORY, ["note"]),
    "collections_app_historicalportaldispute": (HISTORY, ["reason", "document", "document_name"]),
    "collections_app_historicalportalevent": (HISTORY, ["detail"]),
    "collections_app_historicalportalplanrequest": (HISTORY, ["note"]),
    "compliance_historicaldebtorcontactpreference": (HISTORY, ["note"]),
    "collections_app_portalevent": (["link_id"], ["detail"]),
}


def _trigger(table: str, arguments: list[str]) -> str:
    quoted = ", ".join(f"'{argument}'" for argument in arguments)
    return (
        f"DROP TRIGGER IF EXISTS append_only ON {table}; "
        f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION append_only_row({quoted});"
    )


def forwards(apps, schema_editor):
    schema_editor.execute(FUNCTION, params=None)
    with schema_editor.connection.cursor() as cursor:
        for table, (free, erasable) in TABLES.items():
            cursor.execute(_trigger(table, [*free, *(f"~{column}" for column in erasable)]))


def backwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for table, (free, _erasable) in TABLES.items():
            cursor.execute(_trigger(table, free))


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0011_append_only_records"),
        ("debtors", "0008_retention"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
