"""The web shell that knows no feature: security, rendering, i18n, navigation, background
jobs, uploads, the import pipeline every import shares, base templates and static files."""
