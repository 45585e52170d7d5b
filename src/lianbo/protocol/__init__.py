"""The wire contract v1 shared by the server and the players.

Imports only the standard library, ``lianbo.domain`` and ``cryptography``:
players depend on it, never on server code.
"""

PROTOCOL_VERSION = 1
