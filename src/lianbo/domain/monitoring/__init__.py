"""Safe-broadcast monitoring rules (安全播出监测), standard library only.

``verification`` judges one screenshot against the expected asset's pHash
track; ``screens`` turns verdicts into observations; ``alarms`` turns
observations into deduplicated, flap-suppressed alarms with a lifecycle;
``playlog`` checks proof-of-play rows against what the manifest allowed.
Adapters measure (``adapters/media/screenshots.py``); these modules decide.
"""
