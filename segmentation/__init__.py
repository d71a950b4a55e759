"""Customer segmentation: per-period values in, classes with their reasons out.

Pure Python and pandas - no web framework, no database - usable from a
notebook. A typical run::

    from tabular import read_table
    from segmentation import parse_customer_values, segment_window

    raw = read_table(uploaded_bytes, "umsatz.csv")
    values, problems, summary = parse_customer_values(raw)
    segments = segment_window(values, "2023-01", "2024-12")

Modules
-------
customer_values  the customer-values import (long and wide layouts)
windows          periods, window aggregation, the customer x period matrix
pareto           ABC classes, profit tiers A/B/C/Z, cross-subsidy
potential        potential matrix (Stars, Fokus, Cash-Cows, Zeitfresser)
trajectory       value trajectories (growth, shrinking, bell, cyclic, stable) and the burr flag
patient          customer-vs-patient checklist
pipeline         all methods joined per customer
definitions      labels (DE/EN) and care strategies of every segment, as data
"""

from .customer_values import (
    CUSTOMER_VALUE_COLUMNS,
    CUSTOMER_VALUE_OUTPUT,
    CustomerValues,
    parse_customer_values,
)
from .definitions import (
    ABC_CLASSES,
    BURR,
    CUSTOMER_TRAITS,
    PATIENT_CLASSES,
    PATIENT_TRAITS,
    POTENTIAL_SEGMENTS,
    PROFIT_TIERS,
    TRAJECTORIES,
    TRAJECTORY_REASONS,
    label,
)
from .pareto import abc_classes, cross_subsidy, pareto_curve, profit_tiers
from .patient import latest_patient_class, patient_score
from .pipeline import SEGMENT_COLUMNS, segment_customers, segment_window
from .potential import SEGMENT_RULES, potential_matrix
from .trajectory import value_trajectories
from .windows import aggregate_window, normalize_period, period_end, period_range, to_wide

__all__ = [
    "ABC_CLASSES",
    "BURR",
    "CUSTOMER_TRAITS",
    "CUSTOMER_VALUE_COLUMNS",
    "CUSTOMER_VALUE_OUTPUT",
    "PATIENT_CLASSES",
    "PATIENT_TRAITS",
    "POTENTIAL_SEGMENTS",
    "PROFIT_TIERS",
    "SEGMENT_COLUMNS",
    "SEGMENT_RULES",
    "TRAJECTORIES",
    "TRAJECTORY_REASONS",
    "CustomerValues",
    "abc_classes",
    "aggregate_window",
    "cross_subsidy",
    "label",
    "latest_patient_class",
    "normalize_period",
    "pareto_curve",
    "parse_customer_values",
    "patient_score",
    "period_end",
    "period_range",
    "potential_matrix",
    "profit_tiers",
    "segment_customers",
    "segment_window",
    "to_wide",
    "value_trajectories",
]
