"""The portal's forms: they check the shape of what the debtor typed; services apply the limits."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from debtors.models import Channel, Language, RepaymentPlan
from selfservice.services import MAX_DOCUMENT_BYTES, PORTAL_CHANNELS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
HOURS = [(f"{h:02d}:00", f"{h:02d}:00") for h in range(24)]


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=Language.choices)


class IdentityForm(forms.Form):
    date_of_birth = forms.DateField(
        label=_("Your date of birth"), required=False, widget=DATE_INPUT
    )
    id_last4 = forms.CharField(
        label=_("Or the last 4 characters of your ID number"),
        required=False,
        max_length=4,
        min_length=4,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "size": 4}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("date_of_birth") and not data.get("id_last4"):
            raise forms.ValidationError(_("Enter your date of birth or the last 4 characters."))
        return data


class LoanChoiceMixin:
    def _set_loans(self, loans, initial_loan):
        self.loans = {str(loan.pk): loan for loan in loans}
        self.fields["loan"].choices = [
            (str(loan.pk), f"{loan.external_ref} · {loan.currency}") for loan in loans
        ]
        if initial_loan is not None and str(initial_loan.pk) in self.loans:
            self.fields["loan"].initial = str(initial_loan.pk)
        if len(loans) == 1:
            self.fields["loan"].widget = forms.HiddenInput()
            self.fields["loan"].initial = str(loans[0].pk)

    def chosen_loan(self):
        return self.loans[self.cleaned_data["loan"]]


class PromiseForm(LoanChoiceMixin, forms.Form):
    loan = forms.ChoiceField(label=_("Account"))
    amount = forms.DecimalField(
        label=_("Amount"), min_value=0, max_digits=19, decimal_places=2, localize=False
    )
    promised_date = forms.DateField(label=_("I will pay by"), widget=DATE_INPUT)

    def __init__(self, *args, loans, initial_loan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_loans(loans, initial_loan)


class PlanForm(LoanChoiceMixin, forms.Form):
    loan = forms.ChoiceField(label=_("Account"))
    count = forms.IntegerField(label=_("Number of payments"), min_value=1, max_value=120)
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=RepaymentPlan.Frequency.choices,
        initial=RepaymentPlan.Frequency.MONTHLY,
    )
    first_date = forms.DateField(label=_("First payment on"), widget=DATE_INPUT)
    note = forms.CharField(
        label=_("Anything we should know (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, loans, initial_loan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_loans(loans, initial_loan)


class ContactForm(forms.Form):
    channels = forms.MultipleChoiceField(
        label=_("You may contact me by"),
        required=False,
        choices=[(c, label) for c, label in Channel.choices if c in PORTAL_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
    )
    suits_from = forms.ChoiceField(
        label=_("Hours that suit me: from"), required=False, choices=[("", "—"), *HOURS]
    )
    suits_until = forms.ChoiceField(label=_("until"), required=False, choices=[("", "—"), *HOURS])

    def clean(self):
        data = super().clean()
        start, end = data.get("suits_from"), data.get("suits_until")
        if bool(start) != bool(end) or (start and start == end):
            raise forms.ValidationError(_("Choose both a start and an end hour, or neither."))
        data["suits_from"] = dt.time.fromisoformat(start) if start else None
        data["suits_until"] = dt.time.fromisoformat(end) if end else None
        return data


class CeaseForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, stop all contact with me"))
    note = forms.CharField(
        label=_("Anything you want to add (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong?"),
        min_length=5,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    document = forms.FileField(
        label=_("A document (optional): PDF, JPEG or PNG, up to 5 MB"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    def clean_document(self):
        upload = self.cleaned_data.get("document")
        if upload and upload.size > MAX_DOCUMENT_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


class FeedbackForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How was this page for you?"),
        coerce=int,
        choices=[(n, str(n)) for n in range(1, 6)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
