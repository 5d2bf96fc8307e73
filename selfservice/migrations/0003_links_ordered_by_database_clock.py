"""Links and their revocations ordered by the database's clock.

A token now carries its issue instant by the database server's clock, kept on its link when it
is first opened, and a revocation records its own: a revocation ends every link issued before
it by that one clock, whatever the date the signing server's clock gave the token. Rows
written before stay empty: their links and revocations are compared by their dates, as before.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("selfservice", "0002_identity_lock_per_debtor"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalportalevent",
            name="recorded_db_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="at (database clock)"),
        ),
        migrations.AddField(
            model_name="historicalportallink",
            name="issued_db_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="issued at (database clock)"
            ),
        ),
        migrations.AddField(
            model_name="portalevent",
            name="recorded_db_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="at (database clock)"),
        ),
        migrations.AddField(
            model_name="portallink",
            name="issued_db_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="issued at (database clock)"
            ),
        ),
    ]
