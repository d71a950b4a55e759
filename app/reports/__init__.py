"""Reports: the PDF, publishing with its SHA-256, the round-over-round trend.

What the area adds to the app is wired in :mod:`app.reports.area`."""
