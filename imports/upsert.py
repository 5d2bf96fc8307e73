# ruff: noqa: S608 - identifiers come from the models and formats in code; values are parameters
"""Set-based upserts from a checked staging table, with history for what changed.

Hand-written, like the staging checks, for the ``imports`` benchmark (a million loans in under
1 GiB): a handful of statements per file, whatever its size. The tests import the same rows
through these statements and through the ledger's services and compare what each stored
(``tests/imports/test_statements.py``).

For each kind: one UPDATE of the rows that exist and differ (``IS DISTINCT FROM``, so a row
imported again unchanged is not touched and gets no history row), one INSERT of the rows that
do not exist yet, and one INSERT ... SELECT of their historical rows, attributed to the
importing user or system actor. A cell left empty keeps the stored value (and a new row gets
the model's default).

The derived fields of loans (status, oldest unpaid due date) are recomputed for the loans an
import touched, in one statement, by the rules of ``debtors.services.loan_refresh_derived``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils import timezone

from cases.models import Case
from debtors.audit import actor_label
from debtors.models import (
    ContactPoint,
    Debtor,
    Installment,
    Loan,
    Payment,
    PlanInstallment,
    RepaymentPlan,
)
from debtors.sql import literal, literals
from imports.formats import DEFAULT_PAYMENT_SOURCE, Format
from imports.models import ImportKind
from imports.staging import contacts_table, v

# The tables the statements below name, from their models.
CONTACT_POINT = ContactPoint._meta.db_table
DEBTOR = Debtor._meta.db_table
INSTALLMENT = Installment._meta.db_table
LOAN = Loan._meta.db_table
PAYMENT = Payment._meta.db_table
PLAN = RepaymentPlan._meta.db_table
PLAN_INSTALLMENT = PlanInstallment._meta.db_table


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class Target:
    column: str
    expression: str
    optional: bool = False  # empty cell: keep the stored value; new row: ``default``
    # An empty cell of a new row: this expression, else the model field's default.
    default: str | None = None
    # Whether a different value makes the row changed: not for an encrypted value (each
    # encryption differs), whose search key is compared instead.
    compared: bool = True


@dataclass(frozen=True)
class Plan:
    """How a staged row maps onto one table."""

    model: type[models.Model]
    source: str  # FROM clause: the staging table ``s`` and any joins
    key: tuple[tuple[str, str], ...]  # (target column, source expression)
    targets: tuple[Target, ...]
    touch: tuple[str, ...] = ()  # columns set to now() on update (``updated_at``)


def _plan(fmt: Format, table: str) -> Plan:
    num = "{}::numeric".format
    if fmt.kind == ImportKind.DEBTORS:
        return Plan(
            Debtor,
            f"{table} s",
            (("external_ref", v("external_ref")),),
            (
                Target("full_name", v("full_name")),
                Target("country", v("country")),
                Target("region", v("region"), optional=True),
                Target("timezone", v("timezone"), optional=True),
                Target("preferred_language", v("preferred_language"), optional=True),
                # Encrypted in staging (staging.encrypt_national_ids), with its search key.
                Target("national_id", v("national_id"), optional=True, compared=False),
                Target("national_id_index", v("national_id_index"), optional=True),
                Target("date_of_birth", f"{v('date_of_birth')}::date", optional=True),
            ),
            touch=("updated_at",),
        )
    if fmt.kind == ImportKind.LOANS:
        return Plan(
            Loan,
            f"{table} s JOIN {DEBTOR} d ON d.external_ref = {v('debtor_ref')}",
            (("external_ref", v("external_ref")),),
            (
                Target("debtor_id", "d.id"),
                Target("currency", v("currency")),
                Target("principal", num(v("principal"))),
                # A new loan with no balance given owes its principal; an existing one keeps
                # what it owes.
                Target(
                    "principal_balance",
                    num(v("principal_balance")),
                    optional=True,
                    default=num(v("principal")),
                ),
                Target("interest_balance", num(v("interest_balance")), optional=True),
                Target("fees_balance", num(v("fees_balance")), optional=True),
                Target("opened_on", f"{v('opened_on')}::date", optional=True),
                Target("product", v("product"), optional=True),
                Target("risk_band", v("risk_band"), optional=True),
            ),
        )
    if fmt.kind == ImportKind.INSTALLMENTS:
        return Plan(
            Installment,
            f"{table} s JOIN {LOAN} l ON l.external_ref = {v('loan_ref')}",
            (("loan_id", "l.id"), ("sequence", f"{v('sequence')}::int")),
            (
                Target("due_date", f"{v('due_date')}::date"),
                Target("amount_due", num(v("amount_due"))),
                Target("amount_paid", num(v("amount_paid")), optional=True),
            ),
        )
    raise ValueError(fmt.kind)


def _default_sql(field: models.Field, params: dict) -> str:
    """The model default of ``field`` as a query parameter."""
    name = f"default_{field.column}"
    params[name] = field.get_default()
    return f"%({name})s"


def _update_expression(target: Target, alias: str = "t") -> str:
    if target.optional:
        return f"COALESCE({target.expression}, {alias}.{target.column})"
    return target.expression


def _key_match(plan: Plan) -> str:
    return " AND ".join(f"t.{column} = {expression}" for column, expression in plan.key)


def _differs(plan: Plan, alias: str = "t") -> str:
    compared = [target for target in plan.targets if target.compared]
    stored = ", ".join(f"{alias}.{target.column}" for target in compared)
    incoming = ", ".join(_update_expression(target, alias) for target in compared)
    return f"ROW({stored}) IS DISTINCT FROM ROW({incoming})"


def count(cursor, fmt: Format, table: str) -> Counts:
    """What an import would do, without doing it (dry runs, rejected files)."""
    if fmt.kind == ImportKind.PAYMENTS:
        return _count_payments(cursor, table)
    plan = _plan(fmt, table)
    target_table = plan.model._meta.db_table
    cursor.execute(
        f"""SELECT count(*) FILTER (WHERE t.id IS NULL),
                   count(*) FILTER (WHERE t.id IS NOT NULL AND {_differs(plan)}),
                   count(*)
              FROM {plan.source} LEFT JOIN {target_table} t ON {_key_match(plan)}"""
    )
    created, updated, total = cursor.fetchone()
    counts = Counts(created, updated, total - created - updated)
    if fmt.kind == ImportKind.DEBTORS:
        cursor.execute(
            f"""SELECT count(DISTINCT d.id) FROM {contacts_table_of(table)} c
                  JOIN {table} s ON s.line = c.line
                  JOIN {DEBTOR} d ON d.external_ref = {v("external_ref")}
                 WHERE NOT {_differs(plan, alias="d")}
                   AND NOT EXISTS (SELECT 1 FROM {CONTACT_POINT} p WHERE p.debtor_id = d.id
                                      AND p.kind = c.kind AND p.value = c.value)"""
        )
        gained = cursor.fetchone()[0]
        counts.updated += gained
        counts.unchanged -= gained
    return counts


def contacts_table_of(stage: str) -> str:
    return contacts_table(int(stage.rsplit("_", 1)[1]))


def apply(cursor, fmt: Format, table: str, *, actor, now: dt.datetime, reason: str) -> Counts:
    """Write the staged rows. Runs inside the caller's transaction."""
    plan = _plan(fmt, table)
    model = plan.model
    target_table = model._meta.db_table
    _temp_ids(cursor, "import_changed", "import_created")
    params: dict = {"now": now, **_history_params(actor, reason)}
    history_columns, history_values = _history_select(model, "written")
    params["type"] = "~"
    sets = [f"{target.column} = {_update_expression(target)}" for target in plan.targets]
    sets += [f"{column} = %(now)s" for column in plan.touch]
    cursor.execute(
        f"""WITH changed AS (
              UPDATE {target_table} t SET {", ".join(sets)}
                FROM {plan.source}
               WHERE {_key_match(plan)} AND {_differs(plan)}
           RETURNING t.*),
            history AS (
              INSERT INTO {model.history.model._meta.db_table} ({history_columns})
              SELECT {history_values} FROM changed AS written)
            INSERT INTO pg_temp.import_changed SELECT id FROM changed""",
        params,
    )
    updated = cursor.rowcount
    params["type"] = "+"

    columns = [column for column, _expression in plan.key]
    expressions = [expression for _column, expression in plan.key]
    for target in plan.targets:
        columns.append(target.column)
        if target.optional:
            field = next(f for f in model._meta.concrete_fields if f.column == target.column)
            default = target.default or _default_sql(field, params)
            expressions.append(f"COALESCE({target.expression}, {default})")
        else:
            expressions.append(target.expression)
    given = set(columns)
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in given:
            continue
        columns.append(field.column)
        expressions.append(_new_row_value(fmt, field, params))
    cursor.execute(
        f"""WITH created AS (
              INSERT INTO {target_table} ({", ".join(columns)})
              SELECT {", ".join(expressions)} FROM {plan.source}
               WHERE NOT EXISTS (SELECT 1 FROM {target_table} t WHERE {_key_match(plan)})
              ON CONFLICT DO NOTHING
           RETURNING *),
            history AS (
              INSERT INTO {model.history.model._meta.db_table} ({history_columns})
              SELECT {history_values} FROM created AS written)
            INSERT INTO pg_temp.import_created SELECT id FROM created""",
        params,
    )
    created = cursor.rowcount

    gained = 0
    if fmt.kind == ImportKind.DEBTORS:
        gained = _apply_debtor_extras(cursor, table, actor=actor, now=now, reason=reason)
    elif fmt.kind == ImportKind.LOANS:
        # New loans got their status on insert; they have no installments yet.
        loans_refresh_derived(cursor, "pg_temp.import_changed", today=timezone.localdate(now))
    elif fmt.kind == ImportKind.INSTALLMENTS:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.import_loans")
        cursor.execute(
            "CREATE TEMP TABLE import_loans AS SELECT DISTINCT loan_id AS id "
            f"FROM {INSTALLMENT} WHERE id IN "
            "(SELECT id FROM pg_temp.import_changed UNION ALL "
            "SELECT id FROM pg_temp.import_created)"
        )
        loans_refresh_derived(cursor, "pg_temp.import_loans", today=timezone.localdate(now))
    total = _staged(cursor, table)
    return Counts(created, updated + gained, total - created - updated - gained)


def touched(cursor, fmt: Format) -> tuple[list[int], list[int]]:
    """After ``apply``: the debtors whose cases the import may have changed, and the loans it
    created (ids, ascending)."""
    if fmt.kind == ImportKind.DEBTORS:
        cursor.execute(
            "SELECT id FROM pg_temp.import_created UNION SELECT id FROM pg_temp.import_changed "
            "ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()], []
    if fmt.kind == ImportKind.LOANS:
        loans = (
            "SELECT id FROM pg_temp.import_created UNION ALL SELECT id FROM pg_temp.import_changed"
        )
        cursor.execute("SELECT id FROM pg_temp.import_created ORDER BY 1")
        created = [row[0] for row in cursor.fetchall()]
    elif fmt.kind == ImportKind.INSTALLMENTS:
        loans, created = "SELECT id FROM pg_temp.import_loans", []
    else:
        return [], []
    cursor.execute(f"SELECT DISTINCT debtor_id FROM {LOAN} WHERE id IN ({loans}) ORDER BY 1")
    return [row[0] for row in cursor.fetchall()], created


def _new_row_value(fmt: Format, field: models.Field, params: dict) -> str:
    if fmt.kind == ImportKind.LOANS and field.column == "status":
        # A loan imported with nothing owed is paid; any other starts current and is derived
        # from its installments when they arrive.
        return (
            f"CASE WHEN COALESCE({v('principal_balance')}::numeric, {v('principal')}::numeric)"
            f" + COALESCE({v('interest_balance')}::numeric, 0)"
            f" + COALESCE({v('fees_balance')}::numeric, 0) <= 0"
            f" THEN {literal(Loan.Status.PAID)} ELSE {literal(Loan.Status.CURRENT)} END"
        )
    if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
        return "%(now)s"
    if field.has_default() and callable(field.default) and field.default is timezone.now:
        return "%(now)s"
    return _default_sql(field, params)


def _staged(cursor, table: str) -> int:
    cursor.execute(f"SELECT count(*) FROM {table}")
    return cursor.fetchone()[0]


def _temp_ids(cursor, *names: str) -> None:
    for name in names:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        cursor.execute(f"CREATE TEMP TABLE {name} (id bigint PRIMARY KEY)")


def _apply_debtor_extras(cursor, table: str, *, actor, now, reason) -> int:
    """New debtors get their (unassigned) case; new phones and emails are added. Returns the
    number of existing, otherwise unchanged debtors that gained a contact point."""
    _temp_ids(cursor, "import_cases", "import_points")
    case_columns, case_values, params = [], [], {"now": now}
    for field in Case._meta.concrete_fields:
        if field.primary_key:
            continue
        case_columns.append(field.column)
        if field.column == "debtor_id":
            case_values.append("c.id")
        elif field.column == "priority":
            case_values.append("0")
        elif field.has_default() and field.default is timezone.now or getattr(field, "auto_now", 0):
            case_values.append("%(now)s")
        else:
            case_values.append(_default_sql(field, params))
    cursor.execute(
        f"""WITH made AS (
              INSERT INTO {Case._meta.db_table} ({", ".join(case_columns)})
              SELECT {", ".join(case_values)} FROM pg_temp.import_created c
              ON CONFLICT DO NOTHING RETURNING id)
            INSERT INTO pg_temp.import_cases SELECT id FROM made""",
        params,
    )
    history_insert(cursor, Case, "pg_temp.import_cases", "+", actor, now, reason)

    point_columns, point_values, params = [], [], {"now": now}
    for field in ContactPoint._meta.concrete_fields:
        if field.primary_key:
            continue
        point_columns.append(field.column)
        if field.column == "debtor_id":
            point_values.append("d.id")
        elif field.column in ("kind", "value"):
            point_values.append(f"c.{field.column}")
        elif field.column == "created_at":
            point_values.append("%(now)s")
        else:
            point_values.append(_default_sql(field, params))
    cursor.execute(
        f"""WITH added AS (
              INSERT INTO {ContactPoint._meta.db_table} ({", ".join(point_columns)})
              SELECT {", ".join(point_values)} FROM {contacts_table_of(table)} c
                JOIN {table} s ON s.line = c.line
                JOIN {DEBTOR} d ON d.external_ref = {v("external_ref")}
              ON CONFLICT DO NOTHING RETURNING id, debtor_id)
            INSERT INTO pg_temp.import_points SELECT id FROM added""",
        params,
    )
    history_insert(cursor, ContactPoint, "pg_temp.import_points", "+", actor, now, reason)
    # Their debtors changed too (a new way to reach them), unless created or updated here.
    cursor.execute(
        f"""SELECT count(DISTINCT p.debtor_id) FROM {CONTACT_POINT} p
            WHERE p.id IN (SELECT id FROM pg_temp.import_points)
              AND p.debtor_id NOT IN (SELECT id FROM pg_temp.import_created)
              AND p.debtor_id NOT IN (SELECT id FROM pg_temp.import_changed)"""
    )
    return cursor.fetchone()[0]


def _history_params(actor, reason: str) -> dict:
    return {
        "reason": reason,
        "user": None if actor is None or isinstance(actor, str) else actor.pk,
        "label": actor_label(actor),
    }


def _history_select(model, alias: str) -> tuple[str, str]:
    """The historical table's columns, and the values for them from rows named ``alias``
    (written rows returned by the statement itself: no second read of the table)."""
    historical = model.history.model
    columns, values = [], []
    special = {
        "history_date": "%(now)s",
        "history_type": "%(type)s",
        "history_change_reason": "%(reason)s",
        "history_user_id": "%(user)s",
        "actor_label": "%(label)s",
    }
    for field in historical._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        values.append(special.get(field.column, f"{alias}.{field.column}"))
    return ", ".join(columns), ", ".join(values)


def history_insert(cursor, model, ids_table: str, history_type: str, actor, now, reason) -> int:
    """One historical row per id in ``ids_table``, copied from the current row, in one INSERT."""
    columns, values = _history_select(model, "t")
    cursor.execute(
        f"""INSERT INTO {model.history.model._meta.db_table} ({columns})
            SELECT {values} FROM {model._meta.db_table} t
             WHERE t.id IN (SELECT id FROM {ids_table})""",
        {"now": now, "type": history_type, **_history_params(actor, reason)},
    )
    return cursor.rowcount


def loans_refresh_derived(cursor, ids_table: str, *, today: dt.date) -> int:
    """Status and oldest unpaid due date of the loans in ``ids_table`` (plans honoured)."""
    cursor.execute(
        f"""
        WITH x AS (
          SELECT l.id, p.has_plan,
                 CASE WHEN l.principal_balance + l.interest_balance + l.fees_balance <= 0 THEN NULL
                      WHEN p.has_plan THEN p.plan_oldest ELSE i.oldest END AS oldest,
                 l.principal_balance + l.interest_balance + l.fees_balance AS outstanding,
                 l.status
            FROM {LOAN} l
            LEFT JOIN LATERAL (SELECT min(due_date) AS oldest FROM {INSTALLMENT}
                                WHERE loan_id = l.id AND amount_paid < amount_due) i ON true
            LEFT JOIN LATERAL (
                SELECT true AS has_plan,
                       min(pi.due_date) FILTER (WHERE pi.amount_paid < pi.amount_due)
                         AS plan_oldest
                  FROM {PLAN} rp
                  LEFT JOIN {PLAN_INSTALLMENT} pi ON pi.plan_id = rp.id
                 WHERE rp.loan_id = l.id AND rp.status = {literal(RepaymentPlan.Status.ACTIVE)}
                 GROUP BY rp.id) p ON true
           WHERE l.id IN (SELECT id FROM {ids_table})
        ), y AS (
          SELECT id, oldest,
                 CASE WHEN status IN {literals(Loan.FIXED_STATUSES)} THEN status
                      WHEN outstanding <= 0 AND oldest IS NULL THEN {literal(Loan.Status.PAID)}
                      WHEN has_plan THEN {literal(Loan.Status.IN_PLAN)}
                      WHEN oldest < %(today)s THEN {literal(Loan.Status.DELINQUENT)}
                      ELSE {literal(Loan.Status.CURRENT)} END AS status
            FROM x
        )
        UPDATE {LOAN} l SET oldest_unpaid_due_date = y.oldest, status = y.status
          FROM y
         WHERE l.id = y.id
           AND ROW(l.oldest_unpaid_due_date, l.status) IS DISTINCT FROM ROW(y.oldest, y.status)
        """,
        {"today": today},
    )
    return cursor.rowcount


def _count_payments(cursor, table: str) -> Counts:
    cursor.execute(
        f"""SELECT count(*) FILTER (WHERE p.id IS NULL), count(*)
              FROM {table} s LEFT JOIN {PAYMENT} p
                ON p.source = COALESCE({v("source")}, {literal(DEFAULT_PAYMENT_SOURCE)})
               AND p.external_ref = {v("external_ref")}"""
    )
    created, total = cursor.fetchone()
    return Counts(created=created, unchanged=total - created)
