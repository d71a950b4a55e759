"""Evidence of an observation: photos and files from the log form and the edit page, checked by
their content, EXIF (location) stripped, thumbnails, served with safe headers, and the role and
record checks of the observation itself."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from app.extensions import db
from tests.integration.audit_fixtures import add_observations, build_world, count_observations
from tests.integration.evidence_samples import GPS_IFD, MAKE, ORIENTATION, jpeg_bytes, pdf_bytes


def _form(world, **extra) -> dict:
    return {"metric_id": str(world.metric_ids["hotline.wait"]), "value": "95", "customer_status": "new", **extra}


def _files(*items) -> dict:
    return {"evidence": [(io.BytesIO(data), name) for name, data in items]}


def _log(client, world, *items, **extra):
    data = {**_form(world, **extra), **_files(*items)}
    return client.post(f"/log/{world.audit_id}", data=data, content_type="multipart/form-data")


def _stored(app):
    from app.touchpoint_audit.models import Evidence

    with app.app_context():
        rows = [(e.observation_id, e.content_type, e.filename, e.data, e.thumbnail, e.width, e.height)
                for e in db.session.scalars(db.select(Evidence).order_by(Evidence.id))]
        db.session.remove()
    return rows


def _evidence_ids(app) -> list[int]:
    from app.touchpoint_audit.models import Evidence

    with app.app_context():
        ids = list(db.session.scalars(db.select(Evidence.id).order_by(Evidence.id)))
        db.session.remove()
    return ids


def test_a_photo_from_the_log_form_is_kept_without_its_location(app, users, as_role):
    world = build_world(app, users)
    photo = jpeg_bytes((40, 20), gps=True, orientation=6)  # 40×20, to be turned upright to 20×40
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(GPS_IFD), "the sample carries a location"
    response = _log(as_role("service"), world, ("IMG_0001.JPG", photo), ("Beleg.pdf", pdf_bytes()))
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    rows = _stored(app)
    assert len(rows) == 2 and rows[0][0] == rows[1][0]
    _obs, content_type, filename, data, thumbnail, width, height = rows[0]
    assert (content_type, filename) == ("image/jpeg", "IMG_0001.jpg")
    stored = Image.open(io.BytesIO(data))
    exif = stored.getexif()
    assert not exif.get_ifd(GPS_IFD) and MAKE not in exif and ORIENTATION not in exif
    assert "exif" not in stored.info
    assert stored.size == (20, 40) == (width, height)  # orientation applied, not just dropped
    small = Image.open(io.BytesIO(thumbnail))
    assert small.format == "JPEG" and max(small.size) <= 240
    assert rows[1][1:3] == ("application/pdf", "Beleg.pdf") and rows[1][3] == pdf_bytes() and rows[1][4] is None


def test_files_are_served_with_their_type_and_safe_headers(app, users, as_role):
    world = build_world(app, users)
    service = as_role("service")
    assert _log(service, world, ("a.png", jpeg_bytes(fmt="PNG")), ("b.pdf", pdf_bytes())).status_code == 303
    photo_id, pdf_id = _evidence_ids(app)
    leadership = as_role("leadership")
    photo = leadership.get(f"/evidence/{photo_id}")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert photo.headers["Content-Disposition"].startswith("inline") and "a.png" in photo.headers["Content-Disposition"]
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in photo.headers["Content-Security-Policy"]
    assert "sandbox" in photo.headers["Content-Security-Policy"]
    assert Image.open(io.BytesIO(photo.data)).format == "PNG"
    thumb = leadership.get(f"/evidence/{photo_id}/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    pdf = leadership.get(f"/evidence/{pdf_id}")
    assert pdf.mimetype == "application/pdf" and pdf.headers["Content-Disposition"].startswith("attachment")
    assert pdf.data == pdf_bytes()
    assert leadership.get(f"/evidence/{pdf_id}/thumbnail").status_code == 404  # a PDF has none
    assert leadership.get("/evidence/999999").status_code == 404


@pytest.mark.parametrize("name, data", [
    ("foto.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    ("foto.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200),  # a Windows program
    ("scan.pdf", b"<html>%PDF-1.4 not at the start</html>"),
    ("foto.jpg", b"\xff\xd8\xff" + b"<svg onload=alert(1)>" * 20),  # JPEG magic, no JPEG behind it
    ("foto.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64),  # HEIC this Pillow cannot read
    ("empty.jpg", b""),
])
def test_disguised_or_unreadable_files_are_refused_and_nothing_is_saved(app, users, as_role, name, data):
    world = build_world(app, users)
    response = _log(as_role("service"), world, (name, data))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert name in page and "nothing was saved" in page
    assert count_observations(app) == 0 and _stored(app) == []


def test_a_truncated_photo_is_refused_not_a_server_error(app, users, as_role):
    world = build_world(app, users)
    whole = jpeg_bytes((300, 200))
    noise = io.BytesIO()
    Image.effect_noise((200, 200), 60).save(noise, "PNG")
    png = noise.getvalue()
    for cut in (whole[: len(whole) // 2], png[: len(png) // 2], jpeg_bytes(fmt="WEBP")[:30]):
        response = _log(as_role("service"), world, ("cut.jpg", cut))
        assert response.status_code == 422, response.status_code
        assert "could not be read" in response.get_data(as_text=True)
    assert count_observations(app) == 0


def test_an_oversized_file_and_an_oversized_request_get_a_clear_413(app, users, as_role, monkeypatch):
    from app.touchpoint_audit import evidence_files

    world = build_world(app, users)
    monkeypatch.setattr(evidence_files, "MAX_BYTES", 50_000)
    big = jpeg_bytes((8, 8)) + b"\x00" * 60_000
    response = _log(as_role("service"), world, ("big.jpg", big))
    assert response.status_code == 413
    assert "big.jpg" in response.get_data(as_text=True) and count_observations(app) == 0
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 200_000)
    response = _log(as_role("service"), world, ("huge.jpg", b"\xff\xd8\xff" + b"\x00" * 300_000))
    assert response.status_code == 413
    assert "larger than this server accepts" in response.get_data(as_text=True)
    assert count_observations(app) == 0


def test_at_most_five_files_per_observation(app, users, as_role):
    world = build_world(app, users)
    service = as_role("service")
    six = [(f"f{i}.jpg", jpeg_bytes()) for i in range(6)]
    assert _log(service, world, *six).status_code == 422 and count_observations(app) == 0
    assert _log(service, world, *six[:4]).status_code == 303
    with app.app_context():
        from app.touchpoint_audit.models import Observation

        obs_id = db.session.scalar(db.select(Observation.id))
        db.session.remove()
    two = {"evidence": [(io.BytesIO(jpeg_bytes()), "x.jpg"), (io.BytesIO(jpeg_bytes()), "y.jpg")]}
    response = service.post(f"/observations/{obs_id}/evidence", data=two, content_type="multipart/form-data")
    assert response.status_code == 422 and len(_stored(app)) == 4
    one = {"evidence": [(io.BytesIO(jpeg_bytes()), "x.jpg")]}
    assert service.post(f"/observations/{obs_id}/evidence", data=one,
                        content_type="multipart/form-data").status_code == 303
    assert len(_stored(app)) == 5
    page = service.get(f"/observations/{obs_id}/edit").get_data(as_text=True)
    assert page.count('class="evidence-item"') == 5 and f'action="/observations/{obs_id}/evidence"' not in page


def test_only_the_author_adds_or_removes_evidence_while_the_audit_is_open(app, users, as_role):
    from app.touchpoint_audit.models import Audit

    world = build_world(app, users)
    [own] = add_observations(app, world, [{"metric": "hotline.wait", "value": 80.0, "customer_status": "new"}],
                             created_by_id=users["service"].id)
    one = lambda: {"evidence": [(io.BytesIO(jpeg_bytes()), "x.jpg")]}  # noqa: E731
    service, manager = as_role("service"), as_role("manager")
    assert manager.post(f"/observations/{own}/evidence", data=one(), content_type="multipart/form-data").status_code == 403
    assert service.post(f"/observations/{own}/evidence", data=one(), content_type="multipart/form-data").status_code == 303
    [evidence_id] = _evidence_ids(app)
    assert manager.post(f"/evidence/{evidence_id}/delete").status_code == 403
    assert as_role("leadership").post(f"/evidence/{evidence_id}/delete").status_code == 403
    with app.app_context():
        db.session.get(Audit, world.audit_id).status = "review"
        db.session.commit()
        db.session.remove()
    assert service.post(f"/evidence/{evidence_id}/delete").status_code == 409
    assert service.post(f"/observations/{own}/evidence", data=one(), content_type="multipart/form-data").status_code == 409
    assert manager.get(f"/evidence/{evidence_id}").status_code == 200  # still visible to who sees the audit
    with app.app_context():
        db.session.get(Audit, world.audit_id).status = "open"
        db.session.commit()
        db.session.remove()
    assert service.post(f"/evidence/{evidence_id}/delete").status_code == 303
    assert _evidence_ids(app) == []
    assert service.post(f"/evidence/{evidence_id}/delete").status_code == 404  # replayed: already gone
    assert service.post("/evidence/999999/delete").status_code == 404


def test_service_staff_not_assigned_to_the_audit_see_no_evidence(app, users, as_role):
    world = build_world(app, users, assign_service=False)
    [obs] = add_observations(app, world, [{"metric": "hotline.wait", "value": 80.0, "customer_status": "new"}],
                             created_by_id=users["manager"].id)
    manager = as_role("manager")
    one = {"evidence": [(io.BytesIO(jpeg_bytes()), "x.jpg")]}
    assert manager.post(f"/observations/{obs}/evidence", data=one, content_type="multipart/form-data").status_code == 303
    [evidence_id] = _evidence_ids(app)
    service = as_role("service")
    assert service.get(f"/evidence/{evidence_id}").status_code == 403
    assert service.get(f"/evidence/{evidence_id}/thumbnail").status_code == 403
    assert as_role("leadership").get(f"/evidence/{evidence_id}/thumbnail").status_code == 200


def test_undo_removes_the_observation_with_its_evidence(app, users, as_role):
    world = build_world(app, users)
    service = as_role("service")
    assert _log(service, world, ("a.jpg", jpeg_bytes())).status_code == 303
    with app.app_context():
        from app.touchpoint_audit.models import Observation

        obs_id = db.session.scalar(db.select(Observation.id))
        db.session.remove()
    assert service.post(f"/observations/{obs_id}/delete").status_code == 303
    assert _stored(app) == [] and count_observations(app) == 0


def test_the_log_form_offers_the_camera_and_keeps_the_grade(app, users, as_role):
    world = build_world(app, users)
    service = as_role("service")
    page = service.get(f"/log?audit_id={world.audit_id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" id="evidence" name="evidence" accept="image/*,application/pdf" capture="environment" multiple' in page
    assert '<option value="observed" selected>' in page
    fragment = service.post(f"/log/{world.audit_id}", data=_form(world, evidence_grade="self_reported"),
                            headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and '<option value="self_reported" selected>' in fragment.get_data(as_text=True)
    assert _log(service, world, evidence_grade="Testanruf").status_code == 303
    bad = service.post(f"/log/{world.audit_id}", data=_form(world, evidence_grade="hearsay"))
    assert bad.status_code == 422 and "is not an evidence grade" in bad.get_data(as_text=True)
    with app.app_context():
        from app.touchpoint_audit.models import Observation

        grades = list(db.session.scalars(db.select(Observation.evidence_grade).order_by(Observation.id)))
        db.session.remove()
    assert grades == ["self_reported", "observed"]


def test_edit_page_changes_the_grade(app, users, as_role):
    world = build_world(app, users)
    [own] = add_observations(app, world, [{"metric": "hotline.wait", "value": 80.0, "customer_status": "new"}],
                             created_by_id=users["service"].id)
    service = as_role("service")
    page = service.get(f"/observations/{own}/edit").get_data(as_text=True)
    assert '<option value="observed" selected>' in page and "No photos or files yet." in page
    response = service.post(f"/observations/{own}/edit", data={
        "metric_id": str(world.metric_ids["hotline.wait"]), "value": "80", "customer_status": "new",
        "evidence_grade": "system"})
    assert response.status_code == 303
    with app.app_context():
        from app.touchpoint_audit.models import Observation

        assert db.session.get(Observation, own).evidence_grade == "system"
        db.session.remove()
