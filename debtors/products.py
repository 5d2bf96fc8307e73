"""The loan products the back office knows by name.

``Loan.product`` holds the lender's own product code, as imports and the API give it; any code
is accepted. The codes listed here are shown by their name in the viewer's language; any other
code is shown as it is, because a lender's own code is the only name the back office has for it.
Add a product here (and its Chinese name to the catalogue) to give it a name.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

PRODUCT_LABELS = {
    "personal_loan": _("Personal loan"),
    "consumer_installment": _("Consumer installment loan"),
    "credit_line": _("Credit line"),
    "auto_loan": _("Auto loan"),
    "bnpl": _("Buy now, pay later"),
}


def product_label(code: str) -> str:
    """The product's name in the active language; an unknown code as it is ("" for none)."""
    label = PRODUCT_LABELS.get(code)
    return code if label is None else str(label)
