"""The start page of each role.

What the area adds to the app is wired in :mod:`app.overview.area`."""
