"""One blueprint per area; BLUEPRINTS is what create_app registers."""
from app.views.admin import bp as admin_bp
from app.views.auth import bp as auth_bp
from app.views.jobs import bp as jobs_bp
from app.views.main import bp as main_bp

BLUEPRINTS = [auth_bp, main_bp, admin_bp, jobs_bp]

from app.views.aftersales import bp as aftersales_bp  # noqa: E402

BLUEPRINTS.append(aftersales_bp)

from app.views.customers import bp as customers_bp  # noqa: E402
from app.views.segments import bp as segments_bp  # noqa: E402

BLUEPRINTS += [segments_bp, customers_bp]

from app.views.audits import bp as audits_bp  # noqa: E402
from app.views.findings import bp as findings_bp  # noqa: E402
from app.views.observations import bp as observations_bp  # noqa: E402
from app.views.touchpoints import bp as touchpoints_bp  # noqa: E402

BLUEPRINTS += [touchpoints_bp, audits_bp, observations_bp, findings_bp]

from app.views.reports import bp as reports_bp  # noqa: E402

BLUEPRINTS.append(reports_bp)
