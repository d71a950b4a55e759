"""Touchpoint and loyalty audit: observations in, comparisons and findings out.

Pure Python + pandas (no Flask, no SQLAlchemy), usable from a notebook:

* :func:`case_flags`, :func:`total_excess` — existing customers' prices against the
  equivalent new-business price (ENBP-style, case level);
* :func:`compare_groups` — existing vs new per touchpoint × metric × segment
  (one value per customer, one estimand per kind of metric with its test and interval,
  Benjamini–Hochberg, materiality, severity);
* :func:`tenure_gradient` — price walking with tenure;
* :func:`repurchase_table`, :func:`aftersales_effect` — after-sales → repurchase;
* :func:`build_findings` — flags to findings with stable keys;
* :func:`compare_pairs`, :func:`adjust_jointly` — paired test calls by their differences, in
  one Benjamini–Hochberg family with the unpaired comparisons.
"""

from ._common import (
    CUSTOMER_STATUSES,
    EVIDENCE_GRADE_ALIASES,
    EVIDENCE_GRADES,
    STATUS_ALIASES,
    benjamini_hochberg,
    customer_status,
    evidence_grade,
    to_python,
    wilson_interval,
)
from .aftersales import (
    QUOTED_REFERENCE,
    aftersales_effect,
    newcombe_interval,
    quoted_reference_table,
    repurchase_table,
    satisfied,
)
from .findings import (
    AFTERSALES_SEVERITY,
    CASE_SEVERITY,
    PRICE_WALKING_SEVERITY,
    RECOMMENDED_ACTIONS,
    SEVERITY_ORDER,
    TITLE_TEMPLATES,
    aftersales_findings,
    aggregate_findings,
    build_findings,
    case_findings,
    finding_key,
    price_walking_findings,
    render_title,
)
from .paired import adjust_jointly, compare_pairs, hodges_lehmann_paired, mcnemar_paired
from .penalty import (
    CASE_REASONS,
    COMPARISON_WARNINGS,
    DEFAULT_MATERIALITY,
    DEFAULT_SEVERITY,
    EFFECT_UNITS,
    EXCESS_ASSUMPTIONS,
    bootstrap_median_draws,
    case_flags,
    compare_groups,
    excess_observed,
    excess_per_year,
    tenure_gradient,
    total_excess,
)
from .synthetic import synthetic_directions, synthetic_observations, synthetic_price_metrics

__all__ = [
    # penalty
    "case_flags", "total_excess", "compare_groups", "tenure_gradient",
    "bootstrap_median_draws", "benjamini_hochberg", "DEFAULT_SEVERITY", "CASE_REASONS", "to_python",
    "CUSTOMER_STATUSES", "STATUS_ALIASES", "customer_status",
    "EVIDENCE_GRADES", "EVIDENCE_GRADE_ALIASES", "evidence_grade",
    "DEFAULT_MATERIALITY", "EFFECT_UNITS", "COMPARISON_WARNINGS", "excess_observed",
    "excess_per_year", "EXCESS_ASSUMPTIONS",
    # after-sales
    "satisfied", "repurchase_table", "aftersales_effect", "newcombe_interval",
    "wilson_interval", "quoted_reference_table", "QUOTED_REFERENCE",
    # findings
    "build_findings", "aggregate_findings", "case_findings", "price_walking_findings",
    "aftersales_findings", "finding_key", "render_title", "SEVERITY_ORDER",
    "CASE_SEVERITY", "PRICE_WALKING_SEVERITY", "AFTERSALES_SEVERITY", "TITLE_TEMPLATES",
    "RECOMMENDED_ACTIONS",
    # paired test calls
    "compare_pairs", "adjust_jointly", "hodges_lehmann_paired", "mcnemar_paired",
    # synthetic data
    "synthetic_observations", "synthetic_directions", "synthetic_price_metrics",
]
