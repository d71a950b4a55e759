"""After-sales: outcomes and the repurchase tables per segment.

What the area adds to the app is wired in :mod:`app.aftersales.area`."""
