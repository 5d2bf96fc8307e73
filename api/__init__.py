"""The HTTP API (``/api/v1/``): token or session authentication, JSON in and out.

Views translate HTTP into calls of the services in ``debtors``, ``compliance``, ``cases`` and
``imports`` and fetch every object through ``cases.access``, so a collector reaches only the
debtors of the cases assigned to them and any other debtor answers 404.

``resources/`` holds one module per resource (its serializers, filter set and views);
``base.ApiView`` is the base of every view; ``fields``, ``errors``, ``metadata``,
``pagination`` and ``permissions`` are what the resources share; ``urls`` is the one URLconf.
"""
