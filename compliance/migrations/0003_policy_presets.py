"""Install the shipped contact policies (us-reg-f, cn-gbt-45251, default), active by default."""

from django.db import migrations

from compliance.presets import PRESETS, install_presets


def install(apps, schema_editor):
    install_presets(apps.get_model("compliance", "ContactPolicy"))


def uninstall(apps, schema_editor):
    # Decisions refer to policy versions: a policy that was used stays.
    ContactPolicy = apps.get_model("compliance", "ContactPolicy")
    ContactDecision = apps.get_model("compliance", "ContactDecision")
    used = ContactDecision.objects.values("policy_id")
    ContactPolicy.objects.filter(slug__in=[p["slug"] for p in PRESETS]).exclude(id__in=used).delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0002_ledger_append_only")]

    operations = [migrations.RunPython(install, uninstall)]
