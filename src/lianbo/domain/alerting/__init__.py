"""Emergency alerts (应急广播): the CAP 1.2 model, its rules, warning levels
and the device-side geofence. Standard library only."""
