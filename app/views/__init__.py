"""One blueprint per area; BLUEPRINTS is what create_app registers."""
from app.views.admin import bp as admin_bp
from app.views.auth import bp as auth_bp
from app.views.jobs import bp as jobs_bp
from app.views.main import bp as main_bp

BLUEPRINTS = [auth_bp, main_bp, admin_bp, jobs_bp]
