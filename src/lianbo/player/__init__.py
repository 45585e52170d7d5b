"""The player agent: fetches, verifies and plays what the control centre signed."""
