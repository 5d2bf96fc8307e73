"""What a debtor does through their signed self-service link, for the portal's pages and the
staff's.

* ``links`` — reading a link's token (signature, age, revocation) into a ``PortalLink``;
* ``services`` — what the debtor does (identity, promise, plan, contact choices, dispute,
  rating) and what staff do (revoke links, decide on a proposed plan), each through the
  domain services and attributed to ``debtors.audit.PORTAL_ACTOR``;
* ``selectors`` — proposals waiting, ratings, the case page's portal panel;
* ``models`` — links, the portal's limits, events, plan requests, disputes, ratings.

The token itself is made and read by ``messaging.templating`` (reminders carry it).
"""
