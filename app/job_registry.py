"""Imports every module that registers job functions (see app.jobs)."""
import app.audit_analysis  # noqa: F401,E402  (audit_analysis)
import app.segment_jobs  # noqa: F401,E402  (customer_import, segmentation_run)
import app.report_jobs  # noqa: F401,E402  (report_pdf, report_publish)
