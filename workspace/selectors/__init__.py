"""Reads of the staff's pages, one module per page or concern."""
