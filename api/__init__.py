"""The HTTP API (``/api/v1/``): token or session authentication, JSON in and out.

Views translate HTTP into calls of the services in ``debtors`` and ``compliance`` and fetch
every object through ``cases.access``, so a collector reaches only the debtors of
the cases assigned to them and any other debtor answers 404.
"""
