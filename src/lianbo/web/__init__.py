"""The operator console (server-rendered) and its static files."""
