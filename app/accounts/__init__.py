"""Accounts: sign-in, users and their roles.

What the area adds to the app is wired in :mod:`app.accounts.area`."""
