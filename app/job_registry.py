"""Imports every module that registers job functions (see app.jobs)."""
