"""Personal data: national ids encrypted at rest (tables, history, imports) and found by a
blind index; collectors get masked phones and dates of birth from the API unless they reveal
one (logged); no plain national id anywhere in a database dump."""

from __future__ import annotations

import datetime as dt
import os
import subprocess

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from cases.models import Case, RevealLog
from debtors import crypto
from debtors.models import Debtor
from imports.models import ImportJob
from imports.retention import rejected_rows_expire
from tests.api.conftest import token_client
from tests.factories import make_case, make_contact_point, make_debtor
from tests.imports.conftest import messages, run_import

pytestmark = pytest.mark.django_db

PLAIN = "110101199003071234"


def _raw(table: str, where: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT national_id, national_id_index FROM {table} WHERE {where}", params)  # noqa: S608
        return cursor.fetchall()


def test_a_national_id_is_stored_encrypted_and_read_back(supervisor):
    debtor = make_debtor(national_id=PLAIN)
    debtor.full_name = "Renamed"
    debtor.save()  # a history row too
    [(stored, index)] = _raw("debtors_debtor", "id = %s", [debtor.pk])
    assert stored.startswith(crypto.TOKEN_PREFIX) and PLAIN not in stored
    assert index == crypto.blind_index(PLAIN) and PLAIN not in index
    assert Debtor.objects.get(pk=debtor.pk).national_id == PLAIN
    for stored, _index in _raw("debtors_historicaldebtor", "id = %s", [debtor.pk]):
        assert stored.startswith(crypto.TOKEN_PREFIX)
    # Exact search through the index, whatever the spacing and case.
    api = token_client(supervisor)
    found = api.get("/api/v1/debtors/", {"national_id": "1101 0119-9003 071234"}).json()
    assert [d["id"] for d in found["results"]] == [debtor.pk]
    assert (
        api.get("/api/v1/debtors/", {"national_id": "110101199003070000"}).json()["results"] == []
    )


def test_imports_encrypt_and_a_repeat_changes_nothing():
    content = f"external_ref,full_name,country,national_id\nD-9,Wang Fang,CN,{PLAIN}\n"
    first = run_import("debtors", content)
    assert first.status == ImportJob.Status.DONE, messages(first)
    [(stored, index)] = _raw("debtors_debtor", "external_ref = %s", ["D-9"])
    assert stored.startswith(crypto.TOKEN_PREFIX) and index == crypto.blind_index(PLAIN)
    assert Debtor.objects.get(external_ref="D-9").national_id == PLAIN
    again = run_import("debtors", content)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 1)
    changed = run_import("debtors", content.replace(PLAIN, "110101199003075678"))
    assert changed.updated_count == 1
    assert Debtor.objects.get(external_ref="D-9").national_id == "110101199003075678"


def test_keys_rotate(settings):
    debtor = make_debtor(national_id=PLAIN)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = f"{new_key},{settings.FIELD_ENCRYPTION_KEY}"
    assert Debtor.objects.get(pk=debtor.pk).national_id == PLAIN  # old key still reads
    call_command("rotate_field_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
    [(stored, index)] = _raw("debtors_debtor", "id = %s", [debtor.pk])
    assert Fernet(new_key).decrypt(stored.encode()).decode() == PLAIN
    assert index == crypto.blind_index(PLAIN)
    settings.FIELD_ENCRYPTION_KEY = new_key
    assert Debtor.objects.get(pk=debtor.pk).national_id == PLAIN


# --- The API's masks and reveals --------------------------------------------------------------


@pytest.fixture
def owed(collector):
    debtor = make_debtor(national_id=PLAIN, date_of_birth=dt.date(1985, 6, 15))
    make_case(debtor, collector)
    phone = make_contact_point(debtor, value="+8613800138000")
    return debtor, phone


def test_collectors_get_masked_phones_and_dates_of_birth(collector, supervisor, owed):
    debtor, phone = owed
    mine = token_client(collector).get(f"/api/v1/debtors/{debtor.pk}/").json()
    assert mine["date_of_birth"] == "1985-**-**"
    assert mine["national_id"].endswith("1234") and PLAIN not in str(mine)
    [point] = mine["contact_points"]
    assert point["value"] != phone.value and point["value"].endswith("8000")
    listed = token_client(collector).get("/api/v1/contact-points/").json()["results"]
    assert "+8613800138000" not in str(listed)
    full = token_client(supervisor).get(f"/api/v1/debtors/{debtor.pk}/").json()
    assert full["date_of_birth"] == "1985-06-15"
    assert full["contact_points"][0]["value"] == "+8613800138000"


def test_a_reveal_through_the_api_is_logged(collector, other_collector, owed):
    debtor, phone = owed
    api = token_client(collector)
    url = f"/api/v1/debtors/{debtor.pk}/reveal/"
    assert api.post(url, {"field": "date_of_birth"}, format="json").json() == {
        "field": "date_of_birth",
        "value": "1985-06-15",
    }
    assert api.post(url, {"field": "national_id"}, format="json").json()["value"] == PLAIN
    body = {"field": "contact_point", "contact_point": phone.pk}
    assert api.post(url, body, format="json").json()["value"] == "+8613800138000"
    assert sorted(RevealLog.objects.values_list("field", flat=True)) == [
        "contact_point",
        "date_of_birth",
        "national_id",
    ]
    # Another collector's debtor: not found, nothing logged.
    assert token_client(other_collector).post(url, body, format="json").status_code == 404
    assert api.post(url, {"field": "contact_point"}, format="json").status_code == 400
    assert RevealLog.objects.count() == 3


def test_a_reveal_on_the_page_without_htmx_sets_no_cookie_and_keeps_no_message(
    client, collector, owed
):
    debtor, _phone = owed
    case = Case.objects.get(debtor=debtor)
    client.force_login(collector)
    response = client.post(f"/cases/{case.pk}/reveal/national-id/")
    assert response.status_code == 200 and PLAIN in response.content.decode()
    assert all(PLAIN not in morsel.value for morsel in response.cookies.values())
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_data FROM django_session")
        assert all(PLAIN not in row[0] for row in cursor.fetchall())


# --- A database dump ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_plain_national_id(collector, tmp_path):
    ids = [f"11010119800101{n:04d}" for n in range(3)]
    debtor = make_debtor(national_id=ids[0])
    debtor.full_name = "Changed"
    debtor.save()
    run_import(
        "debtors",
        f"external_ref,full_name,country,national_id\nD-7,Li Lei,CN,{ids[1]}\n"
        f"D-8,Zhang San,CN,{ids[2]}\n",
    )
    settings_dict = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings_dict.get("PASSWORD") or ""}
    dump = subprocess.run(  # noqa: S603 - the test database, on the test's server
        [
            "pg_dump",
            "--data-only",
            "-h",
            settings_dict.get("HOST") or "127.0.0.1",
            "-p",
            str(settings_dict.get("PORT") or 5432),
            "-U",
            settings_dict.get("USER") or "postgres",
            settings_dict["NAME"],
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    ).stdout
    assert "Li Lei" in dump  # the dump is real
    for plain in ids:
        assert plain not in dump


# --- Rejected rows ------------------------------------------------------------------------------


def test_rejected_rows_keep_no_national_id_or_birth_date_and_expire(settings):
    content = (
        "external_ref,full_name,country,national_id,date_of_birth\n"
        f"D-5,Wang Fang,XX,{PLAIN},1985-06-15\n"
        f"D-6,Li Lei,CN,{PLAIN}9999999999999999999999999999999999999999999999999,1985-06-15\n"
    )
    job = run_import("debtors", content)
    assert job.status == ImportJob.Status.REJECTED
    kept = list(job.rejected_rows.values_list("data", flat=True))
    assert len(kept) == 2
    assert PLAIN not in str(kept) and "1985-06-15" not in str(kept)
    assert "Wang Fang" in str(kept)  # what identifies the row stays, to fix it
    assert PLAIN not in str(list(job.issues.values_list("value", flat=True)))
    # Kept IMPORT_REJECTED_ROWS_DAYS after the import, then deleted.
    settings.IMPORT_REJECTED_ROWS_DAYS = 30
    assert rejected_rows_expire(now=job.finished_at + dt.timedelta(days=29)) == 0
    assert rejected_rows_expire(now=job.finished_at + dt.timedelta(days=31)) == 2
    assert not job.rejected_rows.exists() and job.issues.exists()
