from compliance.models import ContactPolicy


def test_presets_installed(db):
    assert set(ContactPolicy.objects.filter(is_current=True).values_list("slug", flat=True)) >= {
        "us-reg-f",
        "cn-gbt-45251",
        "default",
    }
