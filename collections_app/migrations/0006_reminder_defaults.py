"""Install the shipped reminder strategies (gentle, standard, firm) and their templates."""

from django.db import migrations


def install(apps, schema_editor):
    from reminders.defaults import STRATEGIES, TEMPLATES

    Strategy = apps.get_model("collections_app", "ReminderStrategy")
    Stage = apps.get_model("collections_app", "ReminderStage")
    Template = apps.get_model("collections_app", "MessageTemplate")
    for spec in STRATEGIES:
        strategy, created = Strategy.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "description": spec["description"],
                "risk_bands": spec["risk_bands"],
                "is_default": spec["is_default"],
            },
        )
        if created:
            Stage.objects.bulk_create(
                Stage(
                    strategy=strategy,
                    offset_days=offset,
                    channel=channel,
                    template_key=key,
                    name=name,
                )
                for offset, channel, key, name in spec["stages"]
            )
    for key, channel, language, subject, body in TEMPLATES:
        Template.objects.get_or_create(
            key=key,
            channel=channel,
            language=language,
            defaults={"subject": subject, "body": body},
        )


def uninstall(apps, schema_editor):
    from reminders.defaults import STRATEGIES

    apps.get_model("collections_app", "ReminderStrategy").objects.filter(
        slug__in=[s["slug"] for s in STRATEGIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0005_reminders")]

    operations = [migrations.RunPython(install, uninstall)]
