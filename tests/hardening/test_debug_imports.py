"""With DEBUG on, Django wraps every cursor to log its queries; a CSV import streams its file
with COPY through that wrapper too."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from debtors.models import Debtor
from imports.models import ImportJob
from tests.imports.conftest import messages, run_import

pytestmark = pytest.mark.django_db

DEBTORS = (
    "external_ref,full_name,country,timezone,mobile\nD-1,Wang Fang,CN,Asia/Shanghai,13800138000\n"
)


def test_an_import_runs_through_the_debug_cursor():
    # Capturing queries swaps in the same cursor wrapper DEBUG does.
    with CaptureQueriesContext(connection) as queries:
        job = run_import("debtors", DEBTORS)
    assert job.status == ImportJob.Status.DONE, messages(job)
    assert Debtor.objects.filter(external_ref="D-1").exists()
    assert any("COPY" in query["sql"] for query in queries.captured_queries)
