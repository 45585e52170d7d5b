"""lianbo (联播): broadcast control for networks of UHD screens."""

__version__ = "0.1.0"
