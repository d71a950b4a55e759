"""User administration by admins."""
from __future__ import annotations

from app.accounts.models import User
from app.extensions import db
from tests.conftest import PASSWORD


def test_admin_creates_user(app, as_role):
    client = as_role("admin")
    assert client.get("/admin/users/new").status_code == 200
    response = client.post("/admin/users/new", data={
        "username": "hotline1", "display_name": "Hotline Eins", "role": "service", "password": "s3cure-passw0rd"})
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "hotline1"))
        assert user.role == "service" and user.password_hash.startswith("$argon2id$")


def test_duplicate_username_and_short_password_are_refused(app, as_role):
    client = as_role("admin")
    response = client.post("/admin/users/new", data={"username": "Manager", "role": "service", "password": "short"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "taken" in body and "At least 12 characters" in body
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 4


def test_unknown_role_is_refused(as_role):
    response = as_role("admin").post("/admin/users/new", data={
        "username": "x", "role": "superuser", "password": "long-enough-pw"})
    assert response.status_code == 422


def test_password_reset_signs_user_out(app, as_role, users):
    victim = as_role("service")
    assert victim.get("/").status_code == 200
    admin = as_role("admin")
    response = admin.post(f"/admin/users/{users['service'].id}/password",
                          data={"reset-password": "brand-new-pass", "reset-confirm": "brand-new-pass"})
    assert response.status_code == 303
    assert victim.get("/").status_code == 302  # old session ends
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "service", "password": PASSWORD}).status_code == 401
    assert fresh.post("/login", data={"username": "service", "password": "brand-new-pass"}).status_code == 302


def test_password_reset_mismatch(as_role, users):
    response = as_role("admin").post(f"/admin/users/{users['service'].id}/password",
                                     data={"reset-password": "brand-new-pass", "reset-confirm": "other-pass-123"})
    assert response.status_code == 422
    assert "differ" in response.get_data(as_text=True)


def test_role_change_takes_effect(app, as_role, users):
    service = as_role("service")
    assert service.get("/admin/users").status_code == 403
    as_role("admin").post(f"/admin/users/{users['service'].id}", data={
        "display_name": "S", "role": "leadership", "active": "y"})
    with app.app_context():
        assert db.session.get(User, users["service"].id).role == "leadership"
    assert service.get("/").status_code == 302  # rights changed: sign in again


def test_admin_cannot_demote_self(app, as_role, users):
    response = as_role("admin").post(f"/admin/users/{users['admin'].id}", data={"role": "service", "active": "y"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(User, users["admin"].id).role == "admin"


def test_new_user_form_preselects_no_role_and_refuses_none(app, as_role):
    """Safe default: an administrator is made only by choosing it."""
    client = as_role("admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="admin" selected' not in page and "selected" not in page.split('name="role"', 1)[1].split("</select>")[0]
    response = client.post("/admin/users/new", data={"username": "nobody", "password": "a-long-enough-passphrase"})
    assert response.status_code in (200, 422)
    page = response.get_data(as_text=True)
    assert "Choose a role." in page
    # the error is tied to its field and listed, with a link, at the top of the form
    assert 'aria-invalid="true"' in page and 'aria-describedby="role-error"' in page
    assert 'class="error-summary"' in page and 'href="#role"' in page
    from app.accounts.models import User
    from app.extensions import db

    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.username == "nobody")) is None
        db.session.remove()
