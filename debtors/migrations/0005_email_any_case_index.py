# Bounces and complaints look an address up whatever its case: an index on UPPER(value) for
# emails, built without locking the table against writes (a live portfolio keeps working).

import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("debtors", "0004_channels_both_ways"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="contactpoint",
            index=models.Index(
                django.db.models.functions.text.Upper("value"),
                condition=models.Q(("kind", "email")),
                name="contactpoint_email_any_case",
            ),
        ),
    ]
