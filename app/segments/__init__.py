"""Segments: customers, their values and series blocks, segmentation runs, reasons, exports.

What the area adds to the app is wired in :mod:`app.segments.area`."""
