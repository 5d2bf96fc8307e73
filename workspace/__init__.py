"""The staff's pages: the queue, the case page, supervisors' and admins' pages, dashboards, exports."""
