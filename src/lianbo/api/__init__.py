"""HTTP entry points: thin routers over the services."""
