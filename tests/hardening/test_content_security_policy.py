"""A strict Content-Security-Policy (django-csp): scripts, styles and images from this site
only; no page carries inline script, an event-handler attribute or a style attribute, so the
policy breaks nothing."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.factories import make_case, make_contact_point, make_debtor, make_loan

pytestmark = pytest.mark.django_db


class _Inline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.links: set[str] = set()

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        # A JSON data block (json_script) is data, never run.
        if tag == "script" and not names.get("src") and names.get("type") != "application/json":
            self.found.append("<script> without src")
        for name, _value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name == "style":
                self.found.append(f"<{tag} style=...>")
        href = names.get("href") or ""
        if tag == "a" and href.startswith("/") and not href.startswith(("/admin/", "/accounts/")):
            self.links.add(href.split("#")[0])


def _inline(html: str) -> _Inline:
    parser = _Inline()
    parser.feed(html)
    return parser


def test_the_policy_allows_only_this_site_and_no_inline_script(client, collector):
    client.force_login(collector)
    header = client.get("/")["Content-Security-Policy"]
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in (p.strip() for p in header.split(";")) if part
    )
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in header


@pytest.mark.parametrize("role", ["collector", "supervisor", "admin_user"])
def test_no_page_a_role_reaches_has_inline_script_or_style(client, role, request, collector):
    user = request.getfixturevalue(role)
    debtor = make_debtor()
    make_contact_point(debtor)
    make_loan(debtor)
    case = make_case(debtor, collector)
    client.force_login(user)
    seen, queue = set(), ["/", f"/cases/{case.pk}/", "/api/docs/"]
    problems = []
    while queue and len(seen) < 80:
        path = queue.pop()
        if path in seen or re.search(r"/(logout|export|exports)/", path):
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parsed = _inline(response.content.decode())
        problems += [f"{path}: {what}" for what in parsed.found]
        queue += sorted(parsed.links - seen)
    assert len(seen) >= 4
    assert problems == []
