"""Transports that carry domain events between processes."""
