"""Install the disposition codes shipped with the product and the default queue weights."""

from django.db import migrations


def install(apps, schema_editor):
    from cases.models import install_default_dispositions

    install_default_dispositions(apps.get_model("collections_app", "DispositionCode"))
    QueueWeights = apps.get_model("collections_app", "QueueWeights")
    QueueWeights.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0003_workspace")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
