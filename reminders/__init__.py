"""Staged reminders: strategies, the reminder outbox, its planner and dispatcher."""
