"""Fleet simulator: thousands of virtual screens over a few processes.

``lianbo sim`` (``cli.sim_app``) enrols screens through the admin API,
connects them to the hub or an MQTT broker and measures how fast a
published change reaches them; ``bench/fleet.py`` uses the same parts.
"""
