"""Use cases: each ties the domain to the store inside one transaction."""
