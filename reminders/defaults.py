"""The strategies and templates shipped with the product (installed by a data migration).

They are data, not code: admins edit them like anything they create. Three strategies:
gentle (the default: low-risk loans and every loan whose band no strategy claims), standard
(medium risk) and firm (high risk). Every template exists in English and Simplified Chinese.

The shipped names are stored in English, as typed, and shown in the viewer's language
(``shipped_name``): an admin who renames a strategy or a stage sees their own words, never a
translation of them.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

# (offset_days, channel, template_key, name)
GENTLE = [
    (-3, "in_app", "friendly_reminder", gettext_noop("Friendly reminder (in-app)")),
    (-3, "email", "friendly_reminder", gettext_noop("Friendly reminder (email)")),
    (0, "sms", "due_today", gettext_noop("Due today")),
    (1, "sms", "overdue", gettext_noop("One day overdue")),
    (3, "call_task", "", gettext_noop("First call")),
    (7, "email", "plan_offer", gettext_noop("Plan offer with the self-service link")),
    (15, "call_task", "", gettext_noop("Second call")),
    (30, "letter", "formal_notice", gettext_noop("Formal letter")),
    (60, "letter", "lawyer_letter", gettext_noop("Lawyer's letter")),
    (90, "call_task", "", gettext_noop("Legal review")),
]
STANDARD = [
    (-3, "email", "friendly_reminder", gettext_noop("Friendly reminder (email)")),
    (0, "sms", "due_today", gettext_noop("Due today")),
    (1, "sms", "overdue", gettext_noop("One day overdue")),
    (2, "call_task", "", gettext_noop("First call")),
    (5, "email", "plan_offer", gettext_noop("Plan offer with the self-service link")),
    (10, "call_task", "", gettext_noop("Second call")),
    (21, "letter", "formal_notice", gettext_noop("Formal letter")),
    (45, "letter", "lawyer_letter", gettext_noop("Lawyer's letter")),
    (75, "call_task", "", gettext_noop("Legal review")),
]
FIRM = [
    (-1, "sms", "friendly_reminder", gettext_noop("Reminder the day before")),
    (0, "email", "due_today", gettext_noop("Due today (email)")),
    (0, "sms", "due_today", gettext_noop("Due today (SMS)")),
    (1, "call_task", "", gettext_noop("First call")),
    (3, "sms", "overdue", gettext_noop("Overdue")),
    (5, "email", "plan_offer", gettext_noop("Plan offer with the self-service link")),
    (7, "call_task", "", gettext_noop("Second call")),
    (14, "letter", "formal_notice", gettext_noop("Formal letter")),
    (30, "letter", "lawyer_letter", gettext_noop("Lawyer's letter")),
    (60, "call_task", "", gettext_noop("Legal review")),
]

STRATEGIES = [
    {
        "slug": "gentle",
        "name": gettext_noop("Gentle collection"),
        "description": gettext_noop("Reminders first, calls later; the default for new accounts."),
        "risk_bands": ["low"],
        "is_default": True,
        "stages": GENTLE,
    },
    {
        "slug": "standard",
        "name": gettext_noop("Standard collection"),
        "description": gettext_noop("Medium-risk loans: calls from the second day past due."),
        "risk_bands": ["medium"],
        "is_default": False,
        "stages": STANDARD,
    },
    {
        "slug": "firm",
        "name": gettext_noop("Firm collection"),
        "description": gettext_noop(
            "High-risk loans: a reminder the day before, calls from day one."
        ),
        "risk_bands": ["high"],
        "is_default": False,
        "stages": FIRM,
    },
]

# The names of the strategies and stages above, and their descriptions (for ``shipped_name``).
SHIPPED_NAMES = frozenset(
    [name for spec in STRATEGIES for _offset, _channel, _key, name in spec["stages"]]
    + [spec[field] for spec in STRATEGIES for field in ("name", "description")]
)


def shipped_name(name: str) -> str:
    """A strategy's or stage's name (or description) in the active language when it is one
    shipped here; a name an admin wrote is shown as written."""
    return gettext(name) if name in SHIPPED_NAMES else name


# What the message templates shipped below are for, by key (``template_label``).
TEMPLATE_LABELS = {
    "friendly_reminder": _("Friendly reminder"),
    "due_today": _("Due today"),
    "overdue": _("Overdue"),
    "plan_offer": _("Repayment plan offer"),
    "formal_notice": _("Formal notice"),
    "lawyer_letter": _("Lawyer's letter"),
}


def template_label(key: str) -> str:
    """A message template's name in the active language; a key an admin added, as it is."""
    label = TEMPLATE_LABELS.get(key)
    return key if label is None else str(label)


# (key, channel, language, subject, body)
TEMPLATES = [
    # Friendly reminder, before the due date.
    (
        "friendly_reminder",
        "in_app",
        "en",
        "Your installment is due soon",
        "Hello {{ debtor_name }}, your installment of {{ amount_due }} for loan {{ loan_ref }} "
        "is due on {{ due_date }}. You can pay or check your schedule here: "
        "{{ self_service_link }}",
    ),
    (
        "friendly_reminder",
        "in_app",
        "zh-hans",
        "您的还款即将到期",
        "{{ debtor_name }}您好，您的贷款 {{ loan_ref }} 本期应还 {{ amount_due }}，"
        "到期日为 {{ due_date }}。您可以在此查看还款计划或还款：{{ self_service_link }}",
    ),
    (
        "friendly_reminder",
        "email",
        "en",
        "A friendly reminder from {{ company_name }}",
        "Hello {{ debtor_name }},\n\nThis is a friendly reminder that your installment of "
        "{{ amount_due }} for loan {{ loan_ref }} is due on {{ due_date }}.\n\n"
        "You can see your schedule and pay here: {{ self_service_link }}\n\n"
        "Thank you,\n{{ company_name }}\n\n{{ opt_out_text }}",
    ),
    (
        "friendly_reminder",
        "email",
        "zh-hans",
        "{{ company_name }} 温馨提醒",
        "{{ debtor_name }}您好：\n\n温馨提醒，您的贷款 {{ loan_ref }} 本期应还 {{ amount_due }}，"
        "到期日为 {{ due_date }}。\n\n查看还款计划或还款：{{ self_service_link }}\n\n"
        "谢谢！\n{{ company_name }}\n\n{{ opt_out_text }}",
    ),
    (
        "friendly_reminder",
        "sms",
        "en",
        "",
        "{{ company_name }}: {{ amount_due }} for loan {{ loan_ref }} is due on {{ due_date }}. "
        "{{ self_service_link }} {{ opt_out_text }}",
    ),
    (
        "friendly_reminder",
        "sms",
        "zh-hans",
        "",
        "【{{ company_name }}】您的贷款{{ loan_ref }}将于{{ due_date }}到期，应还{{ amount_due }}。"
        "{{ self_service_link }} {{ opt_out_text }}",
    ),
    # Due today.
    (
        "due_today",
        "sms",
        "en",
        "",
        "{{ company_name }}: your installment of {{ amount_due }} is due today. "
        "Pay here: {{ self_service_link }} {{ opt_out_text }}",
    ),
    (
        "due_today",
        "sms",
        "zh-hans",
        "",
        "【{{ company_name }}】您今天应还{{ amount_due }}，还款：{{ self_service_link }} "
        "{{ opt_out_text }}",
    ),
    (
        "due_today",
        "email",
        "en",
        "Your installment is due today",
        "Hello {{ debtor_name }},\n\nYour installment of {{ amount_due }} for loan "
        "{{ loan_ref }} is due today ({{ due_date }}).\n\nPay here: {{ self_service_link }}\n\n"
        "{{ company_name }}\n\n{{ opt_out_text }}",
    ),
    (
        "due_today",
        "email",
        "zh-hans",
        "您的还款今天到期",
        "{{ debtor_name }}您好：\n\n您的贷款 {{ loan_ref }} 本期应还 {{ amount_due }}，今天"
        "（{{ due_date }}）到期。\n\n还款：{{ self_service_link }}\n\n{{ company_name }}\n\n"
        "{{ opt_out_text }}",
    ),
    # Overdue.
    (
        "overdue",
        "sms",
        "en",
        "",
        "{{ company_name }}: {{ amount_due }} due on {{ due_date }} is unpaid "
        "({{ days_past_due }} days). Pay or ask for help: {{ self_service_link }} "
        "{{ opt_out_text }}",
    ),
    (
        "overdue",
        "sms",
        "zh-hans",
        "",
        "【{{ company_name }}】您{{ due_date }}到期的{{ amount_due }}已逾期{{ days_past_due }}天。"
        "还款或申请帮助：{{ self_service_link }} {{ opt_out_text }}",
    ),
    (
        "overdue",
        "email",
        "en",
        "Your installment is overdue",
        "Hello {{ debtor_name }},\n\nYour installment of {{ amount_due }} due on {{ due_date }} "
        "is {{ days_past_due }} days overdue.\n\nPay or tell us what you can afford: "
        "{{ self_service_link }}\n\n{{ company_name }}\n\n{{ opt_out_text }}",
    ),
    (
        "overdue",
        "email",
        "zh-hans",
        "您的还款已逾期",
        "{{ debtor_name }}您好：\n\n您 {{ due_date }} 到期的 {{ amount_due }} 已逾期 "
        "{{ days_past_due }} 天。\n\n还款或告诉我们您的还款能力：{{ self_service_link }}\n\n"
        "{{ company_name }}\n\n{{ opt_out_text }}",
    ),
    # Plan offer.
    (
        "plan_offer",
        "email",
        "en",
        "Let's agree on a plan that works for you",
        "Hello {{ debtor_name }},\n\n{{ amount_due }} on loan {{ loan_ref }} has been unpaid "
        "since {{ due_date }}. If paying it all at once is hard, you can propose a repayment "
        "plan on your self-service page: {{ self_service_link }}\n\nThe outstanding balance "
        "is {{ outstanding }}.\n\n{{ company_name }}\n\n{{ opt_out_text }}",
    ),
    (
        "plan_offer",
        "email",
        "zh-hans",
        "为您制定合适的还款计划",
        "{{ debtor_name }}您好：\n\n您的贷款 {{ loan_ref }} 自 {{ due_date }} 起有 "
        "{{ amount_due }} 未还。如一次还清有困难，您可以在自助页面申请分期还款计划："
        "{{ self_service_link }}\n\n当前未偿余额为 {{ outstanding }}。\n\n{{ company_name }}\n\n"
        "{{ opt_out_text }}",
    ),
    (
        "plan_offer",
        "in_app",
        "en",
        "A repayment plan can help",
        "{{ debtor_name }}, {{ amount_due }} has been unpaid since {{ due_date }}. "
        "Propose a plan here: {{ self_service_link }}",
    ),
    (
        "plan_offer",
        "in_app",
        "zh-hans",
        "分期还款计划",
        "{{ debtor_name }}，您自 {{ due_date }} 起有 {{ amount_due }} 未还。"
        "在此申请还款计划：{{ self_service_link }}",
    ),
    # Letters.
    (
        "formal_notice",
        "letter",
        "en",
        "Formal notice: loan {{ loan_ref }}",
        "Dear {{ debtor_name }},\n\nOur records show that {{ amount_due }} due on "
        "{{ due_date }} on loan {{ loan_ref }} remains unpaid, {{ days_past_due }} days after "
        "its due date. The outstanding balance is {{ outstanding }}.\n\nPlease pay, or contact "
        "us to agree on a repayment plan, within 14 days. You can do both on your self-service "
        "page: {{ self_service_link }}\n\nIf you believe this is wrong, tell us: we will look "
        "into it before taking any further step.\n\nYours sincerely,\n{{ company_name }}",
    ),
    (
        "formal_notice",
        "letter",
        "zh-hans",
        "正式通知：贷款 {{ loan_ref }}",
        "尊敬的{{ debtor_name }}：\n\n根据我们的记录，您的贷款 {{ loan_ref }} 于 {{ due_date }} "
        "到期的 {{ amount_due }} 至今未还，已逾期 {{ days_past_due }} 天，当前未偿余额为 "
        "{{ outstanding }}。\n\n请于14日内还款，或与我们联系商定还款计划。您也可以在自助页面"
        "办理：{{ self_service_link }}\n\n如您对此有异议，请告知我们，我们将在采取进一步措施前"
        "予以核实。\n\n此致\n{{ company_name }}",
    ),
    (
        "lawyer_letter",
        "letter",
        "en",
        "Before legal action: loan {{ loan_ref }}",
        "Dear {{ debtor_name }},\n\nDespite our earlier letters, {{ amount_due }} due on "
        "{{ due_date }} on loan {{ loan_ref }} remains unpaid ({{ days_past_due }} days). The "
        "outstanding balance is {{ outstanding }}.\n\nUnless you pay or agree on a repayment "
        "plan within 30 days, the account may be referred to our lawyers for legal review. "
        "Your self-service page: {{ self_service_link }}\n\nIf you dispute this debt, write "
        "to us within 30 days and we will suspend collection while we verify it.\n\n"
        "Yours sincerely,\n{{ company_name }}",
    ),
    (
        "lawyer_letter",
        "letter",
        "zh-hans",
        "法律程序前通知：贷款 {{ loan_ref }}",
        "尊敬的{{ debtor_name }}：\n\n尽管我们此前已去函提醒，您的贷款 {{ loan_ref }} 于 "
        "{{ due_date }} 到期的 {{ amount_due }} 仍未还（已逾期 {{ days_past_due }} 天），当前"
        "未偿余额为 {{ outstanding }}。\n\n如您在30日内仍未还款或商定还款计划，本账户可能"
        "转交律师进行法律审查。自助页面：{{ self_service_link }}\n\n如您对本债务有异议，请在"
        "30日内书面告知，我们将在核实期间暂停催收。\n\n此致\n{{ company_name }}",
    ),
]
