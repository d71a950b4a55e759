"""Channels as the company's vocabulary: aliases map to one key in the form, the import and the analysis."""
from __future__ import annotations

import io

from app.extensions import db
from tests.integration.audit_fixtures import add_observations, build_world, problem_texts

HEADER = "Kontaktpunkt;Kennzahl;Wert;Kundenstatus;Kundennummer;Produkt;Kanal;Datum;Notiz\n"


def _upload(client, audit_id, text):
    return client.post(f"/audits/{audit_id}/import", data={"file": (io.BytesIO(text.encode("utf-8")), "obs.csv")},
                       content_type="multipart/form-data")


def _channels(app) -> list[str]:
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        stored = db.session.scalars(db.select(Observation.channel).order_by(Observation.id)).all()
        db.session.remove()
    return stored


def test_import_stores_aliases_as_the_channel_key(app, as_role, users):
    world = build_world(app, users)
    client = as_role("manager")
    text = HEADER + "".join(f"hotline;wait;{40 + i};Neukunde;;;{word};15.11.2026;\n"
                            for i, word in enumerate(["Telefon", "Tel.", "phone", "HOTLINE", "Web", "E-Mail", ""]))
    html = _upload(client, world.audit_id, text).get_data(as_text=True)
    token = html.split('name="token" value="')[1].split('"')[0]
    assert client.post(f"/audits/{world.audit_id}/import/confirm", data={"token": token}).status_code == 303
    assert _channels(app) == ["phone", "phone", "phone", "phone", "online", "email", None]


def test_an_unknown_channel_is_a_problem_by_row_with_a_suggestion(app, as_role, users):
    world = build_world(app, users)
    text = HEADER + "hotline;wait;40;Neukunde;;;phone;15.11.2026;\nhotline;wait;41;Neukunde;;;Telefn;15.11.2026;\n"
    response = _upload(as_role("manager"), world.audit_id, text)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert problem_texts(html) == [
        "error: Row 3, column Kanal: “Telefn” is not one of the company's channels; did you mean “Phone”?"]
    assert _channels(app) == []


def test_the_analysis_compares_telefon_and_phone_as_one_channel(app, users):
    from app.touchpoint_audit.loaders import observation_frame

    world = build_world(app, users)
    add_observations(app, world, [
        {"metric": "hotline.wait", "value": 30.0, "customer_status": "new", "channel": "Telefon"},
        {"metric": "hotline.wait", "value": 31.0, "customer_status": "new", "channel": "phone"},
        {"metric": "hotline.wait", "value": 32.0, "customer_status": "new", "channel": "Tel."},
        {"metric": "hotline.wait", "value": 33.0, "customer_status": "new", "channel": "Brieftaube"},
    ])
    with app.app_context():
        frame = observation_frame(world.audit_id)
        assert sorted(frame["channel"].tolist()) == ["Brieftaube", "phone", "phone", "phone"]
        db.session.remove()


def test_managers_edit_the_vocabulary_and_the_import_follows_it(app, as_role, users):
    from app.touchpoint_audit.models import Channel

    world = build_world(app, users)
    client = as_role("manager")
    page = client.get("/touchpoints/channels")
    assert page.status_code == 200 and 'data-channel="phone"' in page.get_data(as_text=True)
    with app.app_context():
        phone = db.session.scalar(db.select(Channel).where(Channel.key == "phone"))
        phone_id, aliases = phone.id, phone.aliases
        db.session.remove()
    form = {f"c{phone_id}-name_de": "Telefon", f"c{phone_id}-name_en": "Phone",
            f"c{phone_id}-aliases": aliases + "\nFon", f"c{phone_id}-active": "y"}
    assert client.post(f"/touchpoints/channels/{phone_id}", data=form).status_code == 303
    # "Web" belongs to online: refused, with the owner named
    refused = client.post(f"/touchpoints/channels/{phone_id}", data={**form, f"c{phone_id}-aliases": "Web"})
    assert refused.status_code == 422 and "already stands for the channel “online”" in refused.get_data(as_text=True)
    # a new channel with its own words
    added = client.post("/touchpoints/channels", data={"new-key": "fax", "new-name_de": "Fax", "new-name_en": "Fax",
                                                       "new-aliases": "Telefax", "new-active": "y"})
    assert added.status_code == 303
    text = HEADER + "hotline;wait;40;Neukunde;;;Fon;15.11.2026;\nhotline;wait;41;Neukunde;;;Telefax;15.11.2026;\n"
    html = _upload(client, world.audit_id, text).get_data(as_text=True)
    token = html.split('name="token" value="')[1].split('"')[0]
    client.post(f"/audits/{world.audit_id}/import/confirm", data={"token": token})
    assert _channels(app) == ["phone", "fax"]


def test_the_log_form_suggests_the_channels_in_the_users_language(app, as_role, users):
    world = build_world(app, users)
    client = as_role("service")
    client.post("/language", data={"lang": "de"})
    html = client.get(f"/log/{world.audit_id}/fields?metric_id={world.metric_ids['renewal.price']}").get_data(
        as_text=True)
    assert '<option value="Telefon">' in html and '<option value="Außendienst">' in html


def test_a_deactivated_channel_is_refused_for_new_rows_but_still_read_in_the_analysis(app, as_role, users):
    from app.touchpoint_audit.channels import seed_channels
    from app.touchpoint_audit.loaders import observation_frame
    from app.touchpoint_audit.models import Channel

    world = build_world(app, users)
    with app.app_context():
        seed_channels()
        db.session.scalar(db.select(Channel).where(Channel.key == "chat")).active = False
        db.session.commit()
        db.session.remove()
    add_observations(app, world, [{"metric": "hotline.wait", "value": 30.0, "customer_status": "new",
                                   "channel": "Live-Chat"}])
    with app.app_context():
        assert observation_frame(world.audit_id)["channel"].tolist() == ["chat"]
        db.session.remove()
    text = HEADER + "hotline;wait;40;Neukunde;;;Chat;15.11.2026;\n"
    assert _upload(as_role("manager"), world.audit_id, text).status_code == 422
