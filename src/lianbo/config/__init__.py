"""Settings from ``LIANBO_*`` environment variables or a TOML file.

``LIANBO_CONFIG=/path/lianbo.toml`` names the file; environment variables
win over it. Everything has a working default for the embedded setup.
One ``Settings``; its fleet and media-store parts live in their own modules.
"""

from lianbo.config.settings import Settings

__all__ = ["Settings"]
