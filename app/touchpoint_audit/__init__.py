"""The audit area: touchpoint catalog, audit rounds, observations, findings.

What the area adds to the app is wired in :mod:`app.touchpoint_audit.area`."""
