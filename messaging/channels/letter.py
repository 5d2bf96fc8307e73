"""Letters: rendered to PDF (ReportLab, pure Python) and queued for the print room.

Chinese letters use ReportLab's built-in ``STSong-Light`` CID font, which needs no font file:
the PDF viewer supplies the glyphs, so nothing has to be shipped or downloaded.
"""

from __future__ import annotations

import datetime as dt
import io
from functools import cache
from xml.sax.saxutils import escape

from django.core.files.base import ContentFile
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from messaging.channels.base import Found, ReminderBackend
from messaging.models import PrintJob


@cache
def _cjk_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def render_letter_pdf(
    *, sender: str, address: str, subject: str, body: str, language: str, day: dt.date
) -> tuple[bytes, int]:
    """The letter as PDF bytes, and its page count."""

    chinese = language.startswith("zh")
    font = _cjk_font() if chinese else "Helvetica"
    bold = font if chinese else "Helvetica-Bold"
    wrap = "CJK" if chinese else None
    normal = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=15, wordWrap=wrap)
    heading = ParagraphStyle("subject", parent=normal, fontName=bold, fontSize=12, leading=17)

    def para(text: str, style) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=subject,
        author=sender,
    )
    story = [para(sender, heading), Spacer(1, 8 * mm), para(address, normal), Spacer(1, 8 * mm)]
    story += [para(day.isoformat(), normal), Spacer(1, 6 * mm), para(subject, heading)]
    story += [Spacer(1, 4 * mm)]
    for paragraph in body.split("\n\n"):
        story += [para(paragraph, normal), Spacer(1, 3 * mm)]
    document.build(story)
    return buffer.getvalue(), document.page


class LetterBackend(ReminderBackend):
    channel = "letter"
    provider = "letter"
    can_lookup = True

    def _deliver(self, attempt, message) -> str:
        key = message.metadata["idempotency_key"]
        existing = PrintJob.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return f"print-{existing.pk}"
        pdf, pages = render_letter_pdf(
            sender=message.metadata.get("company_name", ""),
            address=message.to,
            subject=message.subject,
            body=message.body,
            language=message.metadata.get("language", "en"),
            day=timezone.localdate(),
        )
        job = PrintJob(
            debtor_id=message.debtor_id, idempotency_key=key, address=message.to, pages=pages
        )
        job.pdf.save(f"{key}.pdf", ContentFile(pdf), save=False)
        job.save()
        return f"print-{job.pk}"

    def lookup(self, idempotency_key: str, **_hints):
        job = PrintJob.objects.filter(idempotency_key=idempotency_key).first()
        return Found(provider_ref=f"print-{job.pk}") if job else None
