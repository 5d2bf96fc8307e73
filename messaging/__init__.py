"""Channel backends (providers), message templates and their rendering."""
