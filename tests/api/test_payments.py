"""POST /api/v1/payments/: idempotent by key or reference, allocated in one transaction."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from api.models import IdempotencyKey
from debtors.models import Loan, Payment
from tests.factories import make_case, make_debtor, make_loan

from .conftest import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan(collector):
    debtor = make_debtor()
    make_case(debtor, collector)
    return make_loan(debtor)  # three installments of 100.00 CNY


def body(loan, **overrides) -> dict:
    data = {
        "loan": loan.pk,
        "amount": "150.00",
        "received_at": "2026-01-20T10:00:00+08:00",
        "method": "bank_transfer",
    }
    data.update(overrides)
    return data


def test_a_payment_is_allocated_oldest_installment_first(as_supervisor, loan):
    response = as_supervisor.post(
        "/api/v1/payments/", body(loan), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["amount"], data["allocated_amount"], data["credit_amount"]) == (
        "150.00",
        "150.00",
        "0.00",
    )
    assert [a["amount"] for a in data["allocations"]] == ["100.00", "50.00"]
    loan.refresh_from_db()
    assert loan.principal_balance == Decimal("150.00")


def test_the_same_key_twice_stores_one_payment_and_answers_the_first_result(as_supervisor, loan):
    first = as_supervisor.post(
        "/api/v1/payments/", body(loan), format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    second = as_supervisor.post(
        "/api/v1/payments/", body(loan), format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1


def test_a_key_reused_for_another_request_is_refused(as_supervisor, loan):
    as_supervisor.post("/api/v1/payments/", body(loan), format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = as_supervisor.post(
        "/api/v1/payments/", body(loan, amount="10.00"), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 422
    assert Payment.objects.count() == 1


def test_keys_belong_to_their_client(as_supervisor, as_admin, loan):
    as_supervisor.post("/api/v1/payments/", body(loan), format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = as_admin.post(
        "/api/v1/payments/", body(loan), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201
    assert Payment.objects.count() == 2


def test_the_external_reference_alone_makes_a_repeat_harmless(as_supervisor, loan):
    payload = body(loan, external_ref="TX-1", source="core")
    first = as_supervisor.post("/api/v1/payments/", payload, format="json")
    again = as_supervisor.post("/api/v1/payments/", payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    other = as_supervisor.post("/api/v1/payments/", {**payload, "amount": "1.00"}, format="json")
    assert other.status_code == 409


def test_neither_key_nor_reference_is_refused(as_supervisor, loan):
    response = as_supervisor.post("/api/v1/payments/", body(loan), format="json")
    assert response.status_code == 400
    assert "external_ref" in response.json()


@pytest.mark.parametrize("key", ["\x00", "k\x00", "k\x1b[0m"])
def test_a_key_with_a_control_character_is_refused_and_nothing_is_written(as_supervisor, loan, key):
    # A NUL in the key was a server error: PostgreSQL cannot store it.
    response = as_supervisor.post(
        "/api/v1/payments/", body(loan), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400, response.content
    assert "Idempotency-Key" in response.json()
    assert not Payment.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_overpayment_is_kept_as_credit_and_the_loan_is_paid(as_supervisor, loan):
    response = as_supervisor.post(
        "/api/v1/payments/",
        body(loan, amount="350.00"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="big",
    )
    data = response.json()
    assert (data["allocated_amount"], data["credit_amount"]) == ("300.00", "50.00")
    loan.refresh_from_db()
    assert (loan.status, loan.credit_balance) == (Loan.Status.PAID, Decimal("50.00"))


def test_a_payment_on_a_closed_loan_is_refused_and_nothing_is_written(as_supervisor, loan):
    Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.CHARGED_OFF)
    response = as_supervisor.post(
        "/api/v1/payments/", body(loan), format="json", HTTP_IDEMPOTENCY_KEY="closed"
    )
    assert response.status_code == 400
    assert "takes no payments" in response.json()["loan"][0]
    assert not Payment.objects.exists()
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (10.5, "not as floating point"),
        ("0", "greater than zero"),
        ("-1.00", "must not be negative"),
        ("1.005", "at most 2 decimal places"),
    ],
)
def test_bad_amounts_are_named(as_supervisor, loan, amount, message):
    response = as_supervisor.post(
        "/api/v1/payments/", body(loan, amount=amount), format="json", HTTP_IDEMPOTENCY_KEY="a"
    )
    assert response.status_code == 400
    assert message in " ".join(response.json()["amount"])


def test_an_unknown_loan_is_refused(as_supervisor):
    response = as_supervisor.post(
        "/api/v1/payments/",
        {"loan": 999999, "amount": "1", "received_at": "2026-01-20T10:00:00Z", "method": "card"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x",
    )
    assert response.status_code == 400
    assert "loan" in response.json()


def test_collectors_may_not_post_payments(as_collector, loan):
    response = as_collector.post(
        "/api/v1/payments/", body(loan), format="json", HTTP_IDEMPOTENCY_KEY="c"
    )
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_store_one_payment(supervisor, collector):
    debtor = make_debtor()
    make_case(debtor, collector)
    target = make_loan(debtor)
    key = str(uuid.uuid4())
    barrier = threading.Barrier(2)
    responses = []

    def post():
        client = token_client(supervisor)
        barrier.wait()
        try:
            responses.append(
                client.post(
                    "/api/v1/payments/", body(target), format="json", HTTP_IDEMPOTENCY_KEY=key
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert Payment.objects.count() == 1
    target.refresh_from_db()
    assert target.principal_balance == Decimal("150.00")


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_of_one_reference_without_a_key_never_fail(supervisor, collector):
    """The same payment reference posted twenty times at once, without Idempotency-Key: one
    payment, one allocation, and every request answers 201 or 200 (never a server error)."""
    debtor = make_debtor()
    make_case(debtor, collector)
    target = make_loan(debtor)
    barrier = threading.Barrier(20)
    statuses = []

    def post():
        client = token_client(supervisor)
        barrier.wait()
        try:
            response = client.post(
                "/api/v1/payments/", body(target, external_ref="BANK-2026-0001"), format="json"
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 19 + [201]
    assert Payment.objects.count() == 1
    target.refresh_from_db()
    assert target.principal_balance == Decimal("150.00")
