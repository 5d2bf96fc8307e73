"""The debtor's self-service pages (``/p/``): a signed link, a small page that respects the
debtor.

* ``views``/``forms``/``urls`` — the pages; every action calls ``selfservice.services``;
* ``session`` — the portal's own short session, in its own cookie (never the back office's);
* ``ratelimit`` and ``logmask`` — limits per link and per address, and the token kept out of
  logs, gunicorn's logs (``gunicorn_logger``) and error reports.

What the debtor does, and the links themselves, are the domain's: ``selfservice``. The back
office's side (approvals of proposed plans, dispute documents, revocation) is the workspace's.
"""
