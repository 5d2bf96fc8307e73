"""Portfolio imports: CSV and XLSX files of debtors, loans, installments and payments.

``formats`` (the documented columns and the file readers), ``staging`` (COPY into a temporary
table and the checks, in SQL), ``upsert`` (set-based writes with history), ``services`` (a
job's run), ``tasks`` (the Celery job); the pages (upload, progress, report) are the
workspace's.
"""
