"""The debtor self-service portal: a signed link, a small page that respects the debtor.

* ``links`` — reading a link's token (signature, age, revocation) into a ``PortalLink``;
* ``services`` — what the debtor does (identity, promise, plan, contact choices, dispute,
  rating) and what staff do (revoke links, decide on a proposed plan), each through the
  domain services and attributed to ``debtors.audit.PORTAL_ACTOR``;
* ``session`` — the portal's own short session, in its own cookie (never the back office's);
* ``ratelimit`` and ``logmask`` — limits per link and per address, and the token kept out of
  logs and error reports;
* ``views``/``forms``/``urls`` — the debtor's pages under ``/p/``; ``staff`` — the pages the
  back office uses (approvals of proposed plans, dispute documents, revocation).
"""
