"""Notifications out of lianbo (alarm webhooks)."""
