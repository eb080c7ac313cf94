"""Files attached to records: checked by their bytes, kept in the database, read by who may."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from api.app import create_app
from api.cli.main import app
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM, Actor
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord, Event
from layers.features.models import Unit
from layers.features.registry import get_layer
from layers.features.service import create_feature
from layers.records.attachments import (
    AttachmentContent,
    RecordAttachment,
    Upload,
    add_attachment,
    delete_attachment,
)
from layers.records.catalog import get_kind
from layers.records.refs import FeatureRef
from layers.records.service import NewRecord, create_record
from layers.settings import LimitSettings, Settings
from tests.utils.places import precincts_with_units
from tests.utils.samples import SAMPLE_PROPERTIES, sample_geometry
from tests.utils.sessions import keyed_sessions
from tests.utils.users import bearer, make_user

LIMITS = LimitSettings()
EXIF_ORIENTATION = 0x0112


def jpeg(width: int = 40, height: int = 20, orientation: int | None = None) -> bytes:
    """A real JPEG photo, turned a quarter by its EXIF when ``orientation`` is 6."""
    exif = Image.Exif()
    if orientation:
        exif[EXIF_ORIENTATION] = orientation
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (30, 200, 30)).save(out, "PNG")
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 30, 200)).save(out, "WEBP")
    return out.getvalue()


def pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 70), "white").save(out, "PDF")
    return out.getvalue()


@dataclass
class People:
    officer: dict[str, str]
    owner: dict[str, str]  # a user of the hazard's unit, assigned to fix it
    stranger: dict[str, str]  # a user of another unit
    unit_id: int


@pytest.fixture(scope="module")
def people(client: TestClient, session_factory: sessionmaker[Session]) -> People:
    with session_factory() as session:
        precinct = precincts_with_units(session)[0]
        units = session.scalars(
            select(Unit.id).where(Unit.precinct_id == precinct.id).order_by(Unit.id).limit(2)
        ).all()
    here = Jurisdiction(precinct_code=precinct.code)

    def login(role: Role, where: Jurisdiction) -> dict[str, str]:
        return bearer(client, make_user(session_factory, role, where))

    return People(
        officer=login(Role.OFFICER, here),
        owner=login(Role.UNIT, Jurisdiction(unit_id=units[0])),
        stranger=login(Role.UNIT, Jurisdiction(unit_id=units[1])),
        unit_id=units[0],
    )


def hazard(client: TestClient, people: People, *, assigned: bool = True) -> dict[str, Any]:
    assignees = [{"type": "unit", "id": people.unit_id}] if assigned else []
    body = {"title": "消防通道堵塞", "topic": "internal_security",
            "features": [{"layer": "units", "id": people.unit_id}],
            "details": {"level": 2, "category": "fire", "assignees": assignees}}  # fmt: skip
    response = client.post("/api/hazards", json=body, headers=people.officer)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def upload(
    client: TestClient, record_id: int, headers: dict[str, str], content: bytes, name: str,
    media_type: str = "application/octet-stream", **form: str,
) -> Any:  # fmt: skip
    return client.post(f"/api/records/{record_id}/attachments", headers=headers,
                       files={"file": (name, content, media_type)}, data=form)  # fmt: skip


def stored(factory: sessionmaker[Session], record_id: int) -> int:
    with factory() as session:
        return session.scalar(
            select(func.count()).where(RecordAttachment.record_id == record_id)
        ) or 0  # fmt: skip


def test_a_photo_round_trips_with_its_chinese_name_digest_and_checked_type(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    record = hazard(client, people)
    photo = jpeg(40, 20, orientation=6)
    added = upload(client, record["id"], people.officer, photo, "隐患照片 一.jpg", "image/jpeg",
                   caption="消防通道被杂物堵塞")  # fmt: skip
    assert added.status_code == 201, added.text
    assert added.headers["ETag"] == f'"{record["version"] + 1}"'
    (shown,) = added.json()["attachments"]
    assert added.headers["Location"] == shown["url"] == f"/api/attachments/{shown['id']}"
    assert shown["name"] == "隐患照片 一.jpg" and shown["media_type"] == "image/jpeg"
    assert shown["sm3"] == hashlib.new("sm3", photo).hexdigest()
    assert (shown["width"], shown["height"]) == (20, 40)  # as displayed: turned by its EXIF
    assert shown["size_bytes"] == len(photo) and shown["record_state"] == "found"
    assert shown["caption"] == "消防通道被杂物堵塞"

    for reader in (people.officer, people.owner):
        got = client.get(shown["url"], headers=reader)
        assert got.status_code == 200, got.text
        assert got.content == photo
        assert hashlib.new("sm3", got.content).hexdigest() == shown["sm3"]
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("inline; filename=")
    assert disposition.encode("ascii")  # the header itself is ASCII; the name is in filename*
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "隐患照片 一.jpg"

    listed = client.get(f"/api/records/{record['id']}/attachments", headers=people.owner).json()
    assert listed["count"] == 1 and listed["data"][0] == shown
    with session_factory() as session:
        kept = session.get_one(AttachmentContent, shown["id"]).content
        audit = session.scalars(select(AuditRecord).where(
            AuditRecord.action == "hazard.attach", AuditRecord.target_id == str(record["id"])
        )).one()  # fmt: skip
        events = session.scalars(select(Event.payload).where(Event.type == "record.updated")
                                 .order_by(Event.id.desc()).limit(50)).all()  # fmt: skip
    assert kept == photo
    assert audit.after is not None and audit.after["sm3"] == shown["sm3"]
    assert {"record_id": record["id"], "kind": "hazard", "state": "found",
            "version": record["version"] + 1}.items() <= next(
        e for e in events if e.get("record_id") == record["id"]).items()  # fmt: skip


def test_rectification_photos_and_documents_come_from_the_assigned_unit(
    client: TestClient, people: People
) -> None:
    record = hazard(client, people)
    moved = client.post(f"/api/hazards/{record['id']}/transitions", json={"action": "rectify"},
                        headers={**people.owner, "If-Match": f'"{record["version"]}"'})  # fmt: skip
    assert moved.status_code == 200, moved.text
    photo = upload(client, record["id"], people.owner, png(), "整改后.PNG", "image/png")
    assert photo.status_code == 201, photo.text
    assert upload(client, record["id"], people.owner, webp(), "细节.webp").status_code == 201
    document = upload(client, record["id"], people.owner, pdf(), "整改报告")
    assert document.status_code == 201, document.text
    files = {f["name"]: f for f in document.json()["attachments"]}
    assert files["整改后.PNG"]["record_state"] == "rectifying"
    assert files["细节.webp"]["media_type"] == "image/webp"
    # a name without an ending gets the one of its content
    assert files["整改报告.pdf"]["media_type"] == "application/pdf"
    got = client.get(files["整改报告.pdf"]["url"], headers=people.officer)
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment; ")  # saved, never rendered
    again = upload(client, record["id"], people.owner, png(), "again.png")
    assert again.status_code == 200  # the same bytes: the file already there
    assert again.headers["Location"] == files["整改后.PNG"]["url"]
    assert len(again.json()["attachments"]) == 3


@pytest.mark.parametrize(
    ("content", "name", "media_type", "status", "says"),
    [
        (b"MZ\x90\x00\x03" + bytes(200), "photo.jpg", "image/jpeg", 415, "Windows executable"),
        (b"<!DOCTYPE html><script>alert(1)</script>", "photo.png", "image/png", 415, "HTML"),
        (b"GIF89a" + bytes(40), "a.gif", "image/gif", 415, "GIF image"),
        (png(), "photo.jpg", "image/jpeg", 422, "named '.jpg' but its content is a PNG image"),
        (jpeg(), "photo.jpg", "text/html", 422, "sent as 'text/html'"),
        (jpeg(), "evil.exe", "image/jpeg", 422, "named '.exe'"),
        (jpeg()[:300], "cut.jpg", "image/jpeg", 422, "cannot be decoded"),
        (b"%PDF-1.7\n1 0 obj\n", "cut.pdf", "application/pdf", 422, "%%EOF"),
        (b"", "empty.jpg", "image/jpeg", 422, "empty"),
    ],
)  # fmt: skip
def test_a_file_is_judged_by_its_bytes_not_its_name(
    client: TestClient, people: People, session_factory: sessionmaker[Session],
    content: bytes, name: str, media_type: str, status: int, says: str,
) -> None:  # fmt: skip
    record = hazard(client, people)
    refused = upload(client, record["id"], people.officer, content, name, media_type)
    assert refused.status_code == status, refused.text
    assert says in refused.json()["detail"]
    assert stored(session_factory, record["id"]) == 0


def test_an_oversized_file_is_a_413_and_nothing_is_stored(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    record = hazard(client, people)
    just_over = b"\xff\xd8\xff" + bytes(LIMITS.attachment_bytes - 2)  # the body passes its cap
    refused = upload(client, record["id"], people.officer, just_over, "big.jpg", "image/jpeg")
    assert refused.status_code == 413, refused.text
    assert "WARROOM_LIMITS_ATTACHMENT_BYTES" in refused.json()["detail"]
    far_over = just_over + bytes(LIMITS.attachment_bytes)  # the declared length is refused first
    refused = upload(client, record["id"], people.officer, far_over, "big.jpg", "image/jpeg")
    assert refused.status_code == 413, refused.text
    assert "WARROOM_LIMITS_ATTACHMENT_BYTES" in refused.json()["detail"]
    assert stored(session_factory, record["id"]) == 0
    reread = client.get(f"/api/records/{record['id']}", headers=people.officer).json()
    assert reread["version"] == record["version"] and reread["attachments"] == []


def test_a_record_holds_so_many_files_and_a_streamed_body_is_cut_off_at_the_cap(
    settings: Settings, people: People, session_factory: sessionmaker[Session]
) -> None:
    limits = settings.limits.model_copy(update={"attachment_bytes": 4096,
                                                "attachments_per_record": 2})  # fmt: skip
    with TestClient(create_app(settings.model_copy(update={"limits": limits}))) as small:
        record = hazard(small, people)
        for width in (10, 11):
            added = upload(small, record["id"], people.officer, jpeg(width, 10), "a.jpg")
            assert added.status_code == 201, added.text
        full = upload(small, record["id"], people.officer, jpeg(12, 10), "a.jpg")
        assert full.status_code == 409 and "holds 2 files" in full.json()["detail"]
        form = (b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
                b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff")  # fmt: skip
        chunks = iter([form, *[bytes(32 * 1024)] * 4, b"\r\n--x--\r\n"])  # no length told
        multipart = {"content-type": "multipart/form-data; boundary=x"}
        streamed = small.post(f"/api/records/{record['id']}/attachments", content=chunks,
                              headers={**people.officer, **multipart})  # fmt: skip
        assert streamed.status_code == 413, streamed.text
        assert "WARROOM_LIMITS_ATTACHMENT_BYTES" in streamed.json()["detail"]
    assert stored(session_factory, record["id"]) == 2


def test_files_are_kept_from_whoever_may_not_see_or_write_the_record(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    record = hazard(client, people)
    added = upload(client, record["id"], people.officer, jpeg(), "现场.jpg")
    url = added.headers["Location"]
    assert upload(client, 10**12, people.officer, jpeg(), "a.jpg").status_code == 404
    assert client.get("/api/attachments/999999999999", headers=people.officer).status_code == 404
    # another unit's user: the record and its files do not exist for it
    for response in (
        upload(client, record["id"], people.stranger, png(), "a.png"),
        client.get(url, headers=people.stranger),
        client.get(f"/api/records/{record['id']}/attachments", headers=people.stranger),
        client.delete(url, headers={**people.stranger, "If-Match": '"2"'}),
    ):
        assert response.status_code == 404, response.text
    # the unit sees a hazard it is not assigned, but may not add to it
    unassigned = hazard(client, people, assigned=False)
    refused = upload(client, unassigned["id"], people.owner, png(), "a.png")
    assert refused.status_code == 403, refused.text
    with session_factory() as session:
        denied = session.scalars(select(AuditRecord.actor_name).where(
            AuditRecord.action == "record.attach", AuditRecord.result == "denied",
            AuditRecord.target_id.in_([str(record["id"]), str(unassigned["id"])]),
        )).all()  # fmt: skip
    assert len(denied) == 2
    assert stored(session_factory, record["id"]) == 1
    assert stored(session_factory, unassigned["id"]) == 0


def test_a_file_is_removed_at_the_records_version_and_audited_until_it_closes(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    record = hazard(client, people)
    first = upload(client, record["id"], people.officer, jpeg(), "一.jpg")
    second = upload(client, record["id"], people.owner, png(), "二.png")
    version = int(second.headers["ETag"].strip('"'))
    officer_file, owner_file = first.headers["Location"], second.headers["Location"]

    assert client.delete(owner_file, headers=people.owner).status_code == 428
    stale = client.delete(owner_file, headers={**people.owner, "If-Match": f'"{version - 1}"'})
    assert stale.status_code == 412 and stale.headers["ETag"] == f'"{version}"'
    # the unit removes its own file, not the officer's evidence
    theirs = client.delete(officer_file, headers={**people.owner, "If-Match": f'"{version}"'})
    assert theirs.status_code == 403, theirs.text
    removed = client.delete(owner_file, headers={**people.owner, "If-Match": f'"{version}"'})
    assert removed.status_code == 200, removed.text
    assert removed.headers["ETag"] == f'"{version + 1}"'
    assert [f["name"] for f in removed.json()["attachments"]] == ["一.jpg"]
    assert client.get(owner_file, headers=people.owner).status_code == 404
    attachment_id = int(owner_file.rsplit("/", 1)[1])
    with session_factory() as session:
        assert session.get(AttachmentContent, attachment_id) is None
        audit = session.scalars(select(AuditRecord).where(
            AuditRecord.action == "hazard.detach", AuditRecord.target_id == str(record["id"])
        )).one()  # fmt: skip
    assert audit.detail == "二.png" and audit.before is not None
    assert audit.before["attachment_id"] == attachment_id

    current = version + 1
    for action, who in (("rectify", people.owner), ("report", people.owner),
                        ("verify", people.officer)):  # fmt: skip
        moved = client.post(f"/api/hazards/{record['id']}/transitions", json={"action": action},
                            headers={**who, "If-Match": f'"{current}"'})  # fmt: skip
        assert moved.status_code == 200, moved.text
        current = moved.json()["version"]
    closed = client.delete(officer_file, headers={**people.officer, "If-Match": f'"{current}"'})
    assert closed.status_code == 409 and "keeps its files" in closed.json()["detail"]


def test_a_backup_keeps_the_files_and_a_restore_brings_them_back(
    scratch_database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(scratch_database_url, poolclass=NullPool)
    commander = Actor(user_id=None, username="test-commander", role=Role.COMMANDER)
    photo, units = jpeg(), get_layer("units")
    with keyed_sessions(engine)() as session, session.begin():
        unit = create_feature(session=session, spec=units, actor=SYSTEM, max_vertices=10_000,
                              geometry=sample_geometry(units, 116.40, 39.91),
                              properties=SAMPLE_PROPERTIES["units"])  # fmt: skip
        record = create_record(session=session, kind=get_kind("hazard"), actor=commander,
                               new=NewRecord(title="隐患", topic="internal_security",
                                             features=[FeatureRef("units", unit.id)],
                                             details={"level": 1, "category": "fire"}))  # fmt: skip
        attachment, _ = add_attachment(session=session, record_id=record.id, actor=commander,
                                       upload=Upload(photo, "照片.jpg"), limits=LIMITS)  # fmt: skip
        attachment_id, version = attachment.id, record.version
    env = {"WARROOM_DATABASE_URL": scratch_database_url}
    backed_up = CliRunner().invoke(app, ["backup", str(tmp_path / "backup")], env=env)
    assert backed_up.exit_code == 0, backed_up.output
    with keyed_sessions(engine)() as session, session.begin():
        delete_attachment(session=session, attachment_id=attachment_id, expected_version=version,
                          actor=commander)  # fmt: skip
    engine.dispose()
    restored = CliRunner().invoke(app, ["restore", str(tmp_path / "backup"), "--force"], env=env)
    assert restored.exit_code == 0, restored.output
    with Session(create_engine(scratch_database_url, poolclass=NullPool)) as session:
        kept = session.get_one(RecordAttachment, attachment_id)
        content = session.get_one(AttachmentContent, attachment_id).content
    assert content == photo and kept.sm3 == hashlib.new("sm3", photo).hexdigest()
    name = make_url(scratch_database_url).database
    admin = create_engine(make_url(scratch_database_url).set(database="postgres"),
                          poolclass=NullPool, isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:  # the database the restore replaced
        for old in conn.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE :n"),
                                {"n": f"{name}_before_restore_%"}).all():  # fmt: skip
            conn.execute(text(f'DROP DATABASE "{old}" WITH (FORCE)'))
