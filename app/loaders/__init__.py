"""The one adapter between ORM rows and the DataFrames the pure packages take (one module per area)."""
