"""English and Simplified Chinese are both complete.

Every translatable string in the code and templates has a Chinese translation (none missing,
none fuzzy), and the compiled catalogue that Django loads matches its source.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.utils import translation

from debtors.audit import PORTAL_ACTOR, actor_display
from debtors.products import PRODUCT_LABELS, product_label
from reminders.defaults import SHIPPED_NAMES, TEMPLATES, shipped_name, template_label
from reminders.models import ReminderStage, ReminderStrategy

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
APPS = (
    "collections_app",
    "debtors",
    "compliance",
    "messaging",
    "cases",
    "reminders",
    "imports",
    "selfservice",
    "scoring",
    "workspace",
    "portal",
    "api",
    "demo",
)
SOURCES = (*APPS, "templates", "manage.py", "locale")


def _untranslated(po_path: Path) -> list[str]:
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (Debian: gettext)")
def test_every_string_has_a_chinese_translation(tmp_path):
    # Extract afresh from a copy of the sources, so the check sees strings added since the
    # catalogue was last updated without touching the working tree.
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "-v", "0"],
        cwd=tmp_path,
        check=True,
        # makemessages reads the settings but never connects.
        env={**os.environ, "DATABASE_URL": "postgres://offline.invalid/collections"},
    )

    missing = _untranslated(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")

    assert missing == [], (
        f"{len(missing)} strings lack a Chinese translation; run `make messages`, translate, commit: {missing[:20]}"
    )


def test_compiled_catalogue_matches_its_source():
    with (CATALOG / "django.po").open("rb") as handle:
        source = {m.id: m.string for m in read_po(handle) if m.id and not m.fuzzy and m.string}
    with (CATALOG / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    stale = [
        msgid
        for msgid, string in source.items()
        if isinstance(msgid, str) and compiled.gettext(msgid) != string
    ]
    assert stale == [], f"django.mo is out of date; run `make messages`: {stale[:10]}"


def test_chinese_is_served(client):
    with translation.override("zh-hans"):
        assert translation.gettext("Log in") != "Log in"


def test_shipped_names_are_shown_in_the_viewers_language(db):
    """The shipped strategies' and stages' names, the loan products, the message templates and
    the system's actors are data or codes: each is shown in Chinese through its display
    function, and what an admin or an integration wrote is shown as written."""
    stage = ReminderStage.objects.filter(strategy__slug="gentle", name="Due today").first()
    with translation.override("zh-hans"):
        assert [n for n in sorted(SHIPPED_NAMES) if shipped_name(n) == n] == []
        assert [c for c in PRODUCT_LABELS if product_label(c) == c] == []
        assert [k for k, *_rest in TEMPLATES if template_label(k) == k] == []
        assert shipped_name("Our own ladder") == "Our own ladder"
        assert product_label("gold_card") == "gold_card" and product_label("") == ""
        assert template_label("our_own") == "our_own"
        assert str(ReminderStrategy.objects.get(slug="gentle")) == "温和催收"
        assert stage is not None and str(stage).endswith("今日到期")
        assert actor_display(PORTAL_ACTOR) != PORTAL_ACTOR
        assert actor_display("system: reminder #12") == "系统：提醒 #12"
        assert actor_display("system: unattributed") == "系统：未指明"
        assert actor_display("system: Someone's job") == "系统：Someone's job"
        assert actor_display("李娜") == "李娜" and actor_display("") == ""
    with translation.override("en"):
        assert shipped_name("Gentle collection") == "Gentle collection"
        assert product_label("bnpl") == "Buy now, pay later"
        assert actor_display("system: reminder #12") == "system: reminder #12"
