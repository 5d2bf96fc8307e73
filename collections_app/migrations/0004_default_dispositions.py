"""Install the disposition codes shipped with the product and the default queue weights."""

from django.db import migrations


def install(apps, schema_editor):
    from cases.models import DEFAULT_DISPOSITIONS

    DispositionCode = apps.get_model("collections_app", "DispositionCode")
    QueueWeights = apps.get_model("collections_app", "QueueWeights")
    for order, (code, label, outcome, rpc) in enumerate(DEFAULT_DISPOSITIONS, start=1):
        DispositionCode.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "outcome": str(outcome),
                "right_party_contact": rpc,
                "sort_order": order * 10,
            },
        )
    QueueWeights.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0003_workspace")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
