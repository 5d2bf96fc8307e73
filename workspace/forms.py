"""Forms of the workspace pages: they validate input and keep what was typed; services decide.

Choice fields that name an object (a loan, a contact point, a call) are limited to the case's
own objects; the views refuse another case's ids with a 404 before a form even sees them.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import AssignmentRule, Case, DispositionCode, QueueWeights, Team
from cases.roles import ROLES
from cases.teams import teams_for
from compliance.models import Outcome
from compliance.reasons import Reason
from compliance.rules import validate_rules
from debtors.audit import actor_display
from debtors.models import Channel, ContactPoint, Language, Loan, RepaymentPlan
from debtors.validators import validate_country
from reminders.models import ReminderStrategy
from scoring.experiments import experiment_dates
from scoring.models import Experiment
from scoring.scorecard import BANDS as SCORE_BAND_LIMITS
from workspace import formats

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("Name, reference or phone"),
                "data-key": "/",
                "data-key-help": _("Search the queue"),
            }
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status"))]
        + [c for c in Case.Status.choices if c[0] != Case.Status.CLOSED],
    )
    min_dpd = forms.IntegerField(
        label=_("Days past due at least"), required=False, min_value=0, max_value=10000
    )
    promise_today = forms.BooleanField(label=_("Promise due today"), required=False)
    callback_due = forms.BooleanField(label=_("Callback due"), required=False)
    call_task_due = forms.BooleanField(label=_("Call task due"), required=False)
    score_band = forms.ChoiceField(
        label=_("Score band"),
        required=False,
        choices=[("", _("Any band"))] + [(band, band) for band, _lowest in SCORE_BAND_LIMITS],
    )
    collector = forms.ModelChoiceField(
        label=_("Collector"), required=False, queryset=get_user_model().objects.none()
    )
    team = forms.ModelChoiceField(label=_("Team"), required=False, queryset=Team.objects.none())

    def __init__(self, *args, collectors=None, viewer=None, **kwargs):
        """``collectors``: the supervisor's choice of collectors (and of teams, the viewer's
        own first); a collector's queue has neither filter."""
        super().__init__(*args, **kwargs)
        if collectors is None:
            del self.fields["collector"]
            del self.fields["team"]
        else:
            self.fields["collector"].queryset = collectors
            self.fields["collector"].empty_label = _("Everyone")
            self.fields["team"].queryset = teams_for(viewer)
            self.fields["team"].empty_label = _("All teams")


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CallbackForm(forms.Form):
    due_at = forms.DateTimeField(
        label=_("Call back at"),
        widget=DATETIME_INPUT,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("In your time zone."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)

    def clean_due_at(self):
        value = self.cleaned_data["due_at"]
        if value <= timezone.now():
            raise forms.ValidationError(_("A callback must be in the future."))
        return value


class PlaceCallForm(forms.Form):
    contact_point = forms.ModelChoiceField(
        label=_("Number"), queryset=ContactPoint.objects.none(), empty_label=None
    )

    def __init__(self, *args, debtor, contact_points=None, **kwargs):
        """``contact_points``: the debtor's contact points already read (the case page has
        them); the menu is then built from them instead of reading them again, twice, while
        the select renders. The submitted choice is still checked against the queryset."""
        super().__init__(*args, **kwargs)
        field = self.fields["contact_point"]
        field.queryset = debtor.contact_points.filter(kind__in=ContactPoint.PHONE_KINDS).order_by(
            "-is_primary", "id"
        )
        field.label_from_instance = self.phone_label
        if contact_points is not None:
            phones = sorted(
                (cp for cp in contact_points if cp.kind in ContactPoint.PHONE_KINDS),
                key=lambda cp: (not cp.is_primary, cp.pk),
            )
            field.choices = [(cp.pk, self.phone_label(cp)) for cp in phones]

    @staticmethod
    def phone_label(cp) -> str:
        return f"{cp.get_kind_display()} {cp.masked_value} · {cp.get_status_display()}"


class OutcomeForm(forms.Form):
    attempt = forms.IntegerField(required=False, widget=forms.HiddenInput)
    code = forms.ModelChoiceField(
        label=_("Outcome"), queryset=DispositionCode.objects.none(), empty_label=None
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].queryset = DispositionCode.objects.filter(is_active=True)
        self.fields["code"].label_from_instance = lambda code: code.display_label


def _loan_field():
    field = forms.ModelChoiceField(label=_("Loan"), queryset=None, empty_label=None)
    field.label_from_instance = lambda loan: (
        f"{loan.external_ref} · {formats.money(loan.outstanding, loan.currency)}"
    )
    return field


class PromiseForm(forms.Form):
    loan = forms.ModelChoiceField(label=_("Loan"), queryset=None, empty_label=None)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=15, decimal_places=4)
    promised_date = forms.DateField(label=_("Promised date"), widget=DATE_INPUT)

    def __init__(self, *args, debtor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["loan"] = _loan_field()
        self.fields["loan"].queryset = debtor.loans.exclude(status__in=["paid", "charged_off"])

    def clean(self):
        data = super().clean()
        loan, amount = data.get("loan"), data.get("amount")
        if loan and amount is not None and amount > loan.outstanding:
            self.add_error("amount", _("The promise is more than the outstanding balance."))
        if amount is not None and amount <= 0:
            self.add_error("amount", _("The amount must be greater than zero."))
        return data


class PlanForm(forms.Form):
    loan = forms.ModelChoiceField(label=_("Loan"), queryset=None, empty_label=None)
    count = forms.IntegerField(label=_("Installments"), min_value=1, max_value=60, initial=3)
    frequency = forms.ChoiceField(
        label=_("Frequency"),
        choices=RepaymentPlan.Frequency.choices,
        initial=RepaymentPlan.Frequency.MONTHLY,
    )
    first_date = forms.DateField(label=_("First installment on"), widget=DATE_INPUT)
    discount_amount = forms.DecimalField(
        label=_("Discount"), required=False, min_value=0, max_digits=15, decimal_places=4
    )
    discount_reason = forms.CharField(
        label=_("Reason for the discount"),
        required=False,
        max_length=1000,
        help_text=_("A discount goes to a supervisor for approval."),
    )

    def __init__(self, *args, debtor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["loan"] = _loan_field()
        self.fields["loan"].queryset = debtor.loans.exclude(status__in=["paid", "charged_off"])

    def clean(self):
        data = super().clean()
        discount = data.get("discount_amount") or 0
        data["discount_amount"] = discount
        if discount > 0 and not (data.get("discount_reason") or "").strip():
            self.add_error("discount_reason", _("A discount needs a reason for the approver."))
        loan = data.get("loan")
        if loan and discount >= loan.outstanding and loan.outstanding > 0:
            self.add_error(
                "discount_amount", _("The discount must be less than the outstanding balance.")
            )
        first = data.get("first_date")
        if first and first < timezone.localdate():
            self.add_error("first_date", _("The first installment cannot be in the past."))
        return data


class WrapUp:
    """The end of a call in one form: its outcome and note, then what was agreed, if anything
    (a promise, a plan or a callback). The follow-up's fields carry a prefix (``promise-``,
    ``plan-``, ``callback-``) and only the chosen follow-up is validated; the page shows only
    its fields, so the browser is not asked to require the others."""

    FOLLOW_UPS = (
        # value, label, keyboard shortcut
        ("note", _("Nothing more"), "n"),
        ("promise", _("Promise to pay"), "p"),
        ("plan", _("Repayment plan"), "l"),
        ("callback", _("Callback"), "b"),
    )

    def __init__(self, data=None, *, debtor, attempt=None):
        self.outcome = OutcomeForm(data, initial={"attempt": attempt} if attempt else None)
        self.follow_up = (data or {}).get("follow_up", "note")
        if self.follow_up not in {value for value, _label, _key in self.FOLLOW_UPS}:
            self.follow_up = "note"
        today = timezone.localdate()
        self.forms = {
            "promise": PromiseForm(
                data, debtor=debtor, prefix="promise", use_required_attribute=False
            ),
            "plan": PlanForm(
                data,
                debtor=debtor,
                prefix="plan",
                use_required_attribute=False,
                initial={"first_date": today},
            ),
            "callback": CallbackForm(data, prefix="callback", use_required_attribute=False),
        }
        self.is_bound = data is not None

    @property
    def chosen(self) -> forms.Form | None:
        return self.forms.get(self.follow_up)

    def is_valid(self) -> bool:
        # Both are validated, so every error shows at once.
        outcome_ok = self.outcome.is_valid()
        chosen = self.chosen
        return (chosen is None or chosen.is_valid()) and outcome_ok

    def follow_ups(self):
        """(value, label, key, form, checked) for the page."""
        return [
            (value, label, key, self.forms.get(value), value == self.follow_up)
            for value, label, key in self.FOLLOW_UPS
        ]

    @property
    def has_errors(self) -> bool:
        chosen = self.chosen
        return bool(self.outcome.errors or (chosen is not None and chosen.errors))


class ContactPointStatusForm(forms.Form):
    contact_point = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("Mark as"),
        choices=[
            (ContactPoint.Status.WRONG_PARTY, _("Wrong party")),
            (ContactPoint.Status.INVALID, _("Invalid")),
            (ContactPoint.Status.VALID, _("Valid")),
        ],
    )


class HoldForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Request"),
        choices=[
            ("dispute", _("Dispute")),
            ("hardship", _("Hardship")),
            ("cease_communication", _("Cease communication")),
        ],
    )
    reason = forms.CharField(
        label=_("What the debtor said"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    until = forms.DateField(
        label=_("Pause until"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("For hardship only."),
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == "hardship":
            until = data.get("until")
            if until is None:
                self.add_error("until", _("A hardship pause needs an end date."))
            elif until < timezone.localdate():
                self.add_error("until", _("The end date cannot be in the past."))
        return data


class MessageForm(forms.Form):
    contact_point = forms.ModelChoiceField(
        label=_("To"), queryset=ContactPoint.objects.none(), empty_label=None
    )
    template = forms.ChoiceField(label=_("Template"), required=False, choices=[])
    subject = forms.CharField(label=_("Subject"), required=False, max_length=200)
    body = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Empty: the template's text, filled in for this debtor."),
    )

    def clean(self):
        data = super().clean()
        if not data.get("template") and not (data.get("body") or "").strip():
            self.add_error("body", _("Write a message or choose a template."))
        return data

    def __init__(self, *args, debtor, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_point"].queryset = debtor.contact_points.filter(
            kind__in=[ContactPoint.Kind.MOBILE, ContactPoint.Kind.EMAIL]
        ).order_by("kind", "id")
        self.fields["contact_point"].label_from_instance = lambda cp: (
            f"{cp.get_kind_display()} {cp.masked_value}"
        )
        self.fields["template"].choices = [("", _("No template"))] + list(templates)


class ReassignForm(forms.Form):
    cases = forms.ModelMultipleChoiceField(
        label=_("Cases"), queryset=Case.objects.none(), widget=forms.MultipleHiddenInput
    )
    to_user = forms.ModelChoiceField(label=_("Assign to"), queryset=get_user_model().objects.none())

    def __init__(self, *args, collectors, cases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = collectors
        self.fields["cases"].queryset = cases


class DecisionLogFilterForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[("", _("Any reason"))] + Reason.choices
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("Any channel"))] + Channel.choices
    )
    verdict = forms.ChoiceField(
        label=_("Verdict"),
        required=False,
        choices=[("", _("All")), ("blocked", _("Blocked")), ("allowed", _("Allowed"))],
    )
    collector = forms.ModelChoiceField(
        label=_("Collector"), required=False, queryset=get_user_model().objects.none()
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE_INPUT)
    debtor = forms.CharField(label=_("Debtor reference"), required=False, max_length=64)

    def __init__(self, *args, collectors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].queryset = collectors
        self.fields["collector"].empty_label = _("Anyone")


class PeriodForm(forms.Form):
    """Days in the viewer's time zone, both included; empty: the 30 days to today. A date that
    does not validate is left out (its error shown) and the default stands in for it."""

    DEFAULT_DAYS = 30
    # A chart draws a point per day: a longer period is refused, not drawn.
    MAX_DAYS = 731
    EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)

    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=DATE_INPUT,
        validators=[MinValueValidator(EARLIEST), MaxValueValidator(LATEST)],
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=DATE_INPUT,
        validators=[MinValueValidator(EARLIEST), MaxValueValidator(LATEST)],
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to") or timezone.localdate()
        if start and abs((end - start).days) >= self.MAX_DAYS:
            self.add_error(
                "date_from",
                _("A period is at most %(days)d days.") % {"days": self.MAX_DAYS},
            )
        return data

    def valid_data(self) -> dict:
        """The fields that validated (all of an unbound form's are empty)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return self.cleaned_data

    def period(self) -> tuple[dt.date, dt.date]:
        data = self.valid_data()
        end = data.get("date_to") or timezone.localdate()
        start = data.get("date_from") or end - dt.timedelta(days=self.DEFAULT_DAYS - 1)
        if start > end:
            start, end = end, start
        return start, end

    def show_period(self, start: dt.date, end: dt.date) -> None:
        """Fill the date inputs with the period in use, whatever was typed (nothing, a date
        that does not validate, the ends reversed). The errors stay as they were."""
        shown = {"date_from": start.isoformat(), "date_to": end.isoformat()}
        if self.is_bound:
            self.valid_data()  # the errors are of what was typed, not of what is shown
            self.data = self.data.copy()
            for name, value in shown.items():
                self.data[self.add_prefix(name)] = value
        else:
            self.initial = {**self.initial, **shown}


class TeamFilterForm(forms.Form):
    """``?team=<id>``: a supervisor's page narrowed to one team's collectors, the viewer's own
    teams listed first. An unknown team is a form error and the page shows everyone."""

    team = forms.ModelChoiceField(label=_("Team"), required=False, queryset=Team.objects.none())

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_for(viewer)
        self.fields["team"].empty_label = _("All teams")

    def chosen_team(self) -> Team | None:
        if not self.is_bound:
            return None
        self.is_valid()
        return self.cleaned_data.get("team")


class SimulatorForm(forms.Form):
    debtor = forms.CharField(
        label=_("Debtor reference"), max_length=64, help_text=_("For example D-000001.")
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    at = forms.DateTimeField(
        label=_("At"),
        widget=DATETIME_INPUT,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    zone = forms.CharField(
        label=_("Time zone of that instant"),
        max_length=64,
        required=False,
        help_text=_("IANA name; empty: your own zone."),
    )

    def clean_zone(self):
        name = self.cleaned_data.get("zone", "").strip()
        if name:
            try:
                zoneinfo.ZoneInfo(name)
            # A folder of zones ("America") is an OSError, not a missing zone.
            except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
                raise forms.ValidationError(
                    _("Unknown time zone %(zone)s.") % {"zone": name}
                ) from exc
        return name

    def clean(self):
        data = super().clean()
        at, name = data.get("at"), data.get("zone")
        if at is not None and name:
            # The field made it aware in the viewer's zone; read the wall clock in the chosen one.
            naive = timezone.make_naive(at)
            data["at"] = naive.replace(tzinfo=zoneinfo.ZoneInfo(name))
        return data


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    is_active = forms.BooleanField(label=_("Active"), required=False)
    rules = forms.CharField(
        label=_("Rules (JSON)"), widget=forms.Textarea(attrs={"rows": 22, "class": "mono"})
    )
    source = forms.CharField(
        label=_("Source"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_rules(self):
        text = self.cleaned_data["rules"]
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("The rules are not valid JSON (line %(line)d, column %(col)d: %(msg)s).")
                % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
            ) from exc

        validate_rules(value)
        return value


class QueueWeightsForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in QueueWeights.WEIGHT_FIELDS:
            model_field = QueueWeights._meta.get_field(name)
            self.fields[name] = forms.IntegerField(
                label=model_field.verbose_name, min_value=0, max_value=100000
            )


class UserForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=[])
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current password."),
    )

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {"collector": _("Collector"), "supervisor": _("Supervisor"), "admin": _("Admin")}
        self.fields["role"].choices = [(r, labels[r]) for r in ROLES]
        self.instance = instance
        if instance is None:
            self.fields["password"].required = True
            self.fields["password"].help_text = ""

    def clean_username(self):
        name = self.cleaned_data["username"].strip()
        users = get_user_model().objects.filter(username=name)
        if self.instance is not None:
            users = users.exclude(pk=self.instance.pk)
        if users.exists():
            raise forms.ValidationError(_("That username is taken."))
        return name

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if password:
            validate_password(password, self.instance)
        return password


class HolidayLookupForm(forms.Form):
    country = forms.CharField(label=_("Country"), max_length=2, initial="CN")
    region = forms.CharField(label=_("Region"), max_length=16, required=False)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)

    def clean_country(self):
        value = self.cleaned_data["country"].upper()
        validate_country(value)
        return value


OUTCOME_CHOICES = [c for c in Outcome.choices if c[0] != Outcome.PENDING]


def _codes(value: str) -> list[str]:
    """A comma-separated list typed in a form, as a list (blanks dropped)."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class PopulationForm(forms.Form):
    """Which cases: the conditions of an assignment rule or an experiment's population; an
    empty condition matches anything."""

    countries = forms.CharField(
        label=_("Countries"),
        required=False,
        max_length=500,
        help_text=_("Two-letter codes, separated by commas (for example CN, US)."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Preferred languages"),
        required=False,
        choices=Language.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    products = forms.CharField(
        label=_("Products"),
        required=False,
        max_length=1000,
        help_text=_("Product codes, separated by commas."),
    )
    risk_bands = forms.MultipleChoiceField(
        label=_("Risk bands"),
        required=False,
        choices=Loan.RiskBand.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    min_days_past_due = forms.IntegerField(
        label=_("From days past due"), required=False, min_value=0, max_value=100000
    )
    max_days_past_due = forms.IntegerField(
        label=_("To days past due"), required=False, min_value=0, max_value=100000
    )
    min_outstanding = forms.DecimalField(
        label=_("From outstanding"), required=False, min_value=0, max_digits=19, decimal_places=4
    )
    max_outstanding = forms.DecimalField(
        label=_("To outstanding"), required=False, min_value=0, max_digits=19, decimal_places=4
    )

    POPULATION_FIELDS = (
        "countries",
        "languages",
        "products",
        "risk_bands",
        "min_days_past_due",
        "max_days_past_due",
        "min_outstanding",
        "max_outstanding",
    )

    def clean_countries(self) -> list[str]:
        codes = [code.upper() for code in _codes(self.cleaned_data["countries"])]
        bad = [code for code in codes if len(code) != 2 or not code.isalpha()]
        if bad:
            raise forms.ValidationError(
                _("Not a two-letter country code: %(codes)s.") % {"codes": ", ".join(bad)}
            )
        return codes

    def clean_products(self) -> list[str]:
        return _codes(self.cleaned_data["products"])

    @classmethod
    def population_of(cls, obj) -> dict:
        initial = {name: getattr(obj, name) for name in cls.POPULATION_FIELDS}
        initial["countries"] = ", ".join(obj.countries)
        initial["products"] = ", ".join(obj.products)
        return initial


class AssignmentRuleForm(PopulationForm):
    """An assignment rule, in fields rather than JSON; an empty condition matches anything."""

    field_order = ("name", "order", "is_active", *PopulationForm.POPULATION_FIELDS)

    name = forms.CharField(label=_("Name"), max_length=100)
    order = forms.IntegerField(
        label=_("Order"),
        min_value=0,
        max_value=100000,
        initial=10,
        help_text=_("Rules are tried from the lowest order up."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    collectors = forms.ModelMultipleChoiceField(
        label=_("Collectors"),
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    method = forms.ChoiceField(label=_("Method"), choices=AssignmentRule.Method.choices)

    def __init__(self, *args, collectors=None, **kwargs):
        super().__init__(*args, **kwargs)
        if collectors is not None:
            self.fields["collectors"].queryset = collectors

    @classmethod
    def initial_of(cls, rule: AssignmentRule) -> dict:
        return {
            "name": rule.name,
            "order": rule.order,
            "is_active": rule.is_active,
            **cls.population_of(rule),
            "collectors": list(rule.collectors.all()),
            "method": rule.method,
        }


class ExperimentForm(PopulationForm):
    """A champion/challenger experiment: its name, population, metric and dates, and up to
    three arms (champion, challenger, an optional hold-out)."""

    field_order = ("name", "primary_metric", "starts_on", "planned_end_on")

    name = forms.CharField(label=_("Name"), max_length=100)
    primary_metric = forms.ChoiceField(label=_("Primary metric"), choices=Experiment.Metric.choices)
    starts_on = forms.DateField(
        label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    planned_end_on = forms.DateField(
        label=_("Planned end"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("starts_on"), data.get("planned_end_on")
        if start and end:
            try:
                experiment_dates(start, end, today=timezone.localdate())
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    self.add_error(field, errors)
        return data


class ArmForm(forms.Form):
    """One arm: a reminder strategy (none for a hold-out), a queue weight and a share."""

    name = forms.CharField(label=_("Name"), max_length=60)
    strategy = forms.ModelChoiceField(
        label=_("Reminder strategy"),
        required=False,
        queryset=ReminderStrategy.objects.filter(is_active=True),
        empty_label=_("None (a hold-out)"),
    )
    queue_weight = forms.IntegerField(label=_("Queue weight"), min_value=-100000, max_value=100000)
    share = forms.IntegerField(label=_("Share (%)"), min_value=0, max_value=100)


class CloseCaseForm(forms.Form):
    """A supervisor's close: a reason from the list and the why in words."""

    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[
            (value, label)
            for value, label in Case.ClosedReason.choices
            if value in Case.MANUAL_REASONS
        ],
    )
    note = forms.CharField(
        label=_("Why"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept on the case and in its history. Pending reminders stop."),
    )


class TeamForm(forms.Form):
    """A team: its name, the supervisors who lead it and its collectors."""

    name = forms.CharField(label=_("Name"), max_length=100)
    leaders = forms.ModelMultipleChoiceField(
        label=_("Led by"),
        required=False,
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Supervisors; their teams come first in the team menus."),
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Collectors"),
        required=False,
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, leaders, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leaders"].queryset = leaders
        self.fields["members"].queryset = members

    @staticmethod
    def initial_of(team: Team) -> dict:
        return {
            "name": team.name,
            "leaders": list(team.leaders.all()),
            "members": list(team.members.all()),
        }


class AuditFilterForm(forms.Form):
    """``?kind=&actor=``: an audit page narrowed to one kind of change and one actor. The
    actors offered are those of the page's changes; anything else is a form error and the
    filter is left out."""

    kind = forms.ChoiceField(label=_("Kind of change"), required=False, choices=[])
    actor = forms.ChoiceField(label=_("Who"), required=False, choices=[])

    def __init__(self, *args, kinds, actors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Any kind"))] + list(kinds)
        self.fields["actor"].choices = [("", _("Anyone"))] + [(a, actor_display(a)) for a in actors]

    def chosen(self) -> tuple[str, str]:
        """The kind and actor to show (empty: any), from what validated."""
        if not self.is_bound:
            return "", ""
        self.is_valid()
        return self.cleaned_data.get("kind", ""), self.cleaned_data.get("actor", "")
