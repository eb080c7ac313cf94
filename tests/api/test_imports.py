"""Imports and exports over HTTP: jobs with progress, size limits, downloads."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from importers.settings import ImportSettings
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.accounts.service import resolve_session
from layers.imports.models import ImportJob
from layers.imports.service import (
    INTERRUPTED,
    create_job,
    hold_job,
    release_job,
    set_progress,
)
from layers.settings import SecuritySettings
from tests.utils.users import bearer, make_user

LIMIT = 256 * 1024


@pytest.fixture
def small_limit(client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    settings = ImportSettings(max_upload_bytes=LIMIT, work_dir=tmp_path)
    monkeypatch.setattr(client.app.state, "import_settings", settings, raising=False)  # type: ignore[attr-defined]
    return tmp_path


def _csv(prefix: str) -> bytes:
    frame = pd.DataFrame(
        {
            "编号": [f"{prefix}1", f"{prefix}2", f"{prefix}3"],
            "单位名称": ["甲银行", "乙学校", "丙"],
            "类别": ["bank", "school", "moon"],
            "经度": [116.39, 116.40, 116.41],
            "纬度": [39.91, 39.92, 39.93],
        }
    )
    return frame.to_csv(index=False).encode("utf-8")


def _wait(client: TestClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(600):
        job: dict[str, Any] = client.get(f"/api/imports/{job_id}", headers=headers).json()
        if job["status"] in {"finished", "failed"}:
            return job
        time.sleep(0.05)
    raise AssertionError(f"import job {job_id} did not end: {job}")


def test_upload_runs_as_a_job_with_report_and_rejects(
    client: TestClient, admin: dict[str, str]
) -> None:
    prefix = f"api{uuid.uuid4().hex[:6]}-"
    response = client.post(
        "/api/imports",
        headers=admin,
        files={"file": ("units.csv", _csv(prefix), "text/csv")},
        data={"layer": "units", "id_field": "编号", "map": "name=单位名称"},
    )
    assert response.status_code == 202, response.text
    job = _wait(client, response.json()["id"], admin)
    assert job["status"] == "finished" and job["has_rejects"], job
    assert (job["report"]["inserted"], job["report"]["rejected"]) == (2, 1)
    report = client.get(f"/api/imports/{job['id']}/report", headers=admin)
    assert report.status_code == 200 and json.loads(report.content)["loaded"] == 2
    rejects = client.get(f"/api/imports/{job['id']}/rejects", headers=admin)
    assert rejects.status_code == 200
    frame = pd.read_csv(io.BytesIO(rejects.content), dtype=str)
    assert list(frame["编号"]) == [f"{prefix}3"]
    assert frame["reject_reason"][0].startswith("category: must be one of")


def test_a_bad_file_fails_the_job_with_a_message(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/api/imports?layer=units", headers=admin, files={"file": ("empty.csv", b"", "text/csv")}
    )
    assert response.status_code == 202
    job = _wait(client, response.json()["id"], admin)
    assert job["status"] == "failed" and "is empty" in job["error"]


def _admin_actor(session_factory: sessionmaker[Session], headers: dict[str, str]) -> Actor:
    with session_factory() as session:
        token = headers["Authorization"].removeprefix("Bearer ")
        return resolve_session(session=session, token=token, policy=SecuritySettings()).actor


def test_a_job_whose_worker_is_gone_reads_as_failed(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session],
    engine: Engine,
) -> None:  # fmt: skip
    actor = _admin_actor(session_factory, admin)
    with session_factory() as session, session.begin():
        job = create_job(session=session, actor=actor, layer="units", source="a.csv", work_dir="")
        set_progress(session=session, job_id=job.id, phase="check", done=5, total=10)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as worker:
        hold_job(worker, job.id)  # a live worker: the job stays running
        assert client.get(f"/api/imports/{job.id}", headers=admin).json()["status"] == "running"
        release_job(worker, job.id)
    gone = client.get(f"/api/imports/{job.id}", headers=admin).json()  # the worker died
    assert gone["status"] == "failed" and gone["error"] == INTERRUPTED


def test_files_of_old_jobs_are_removed_when_the_next_upload_comes(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session],
    small_limit: Path,
) -> None:  # fmt: skip
    prefix = f"old{uuid.uuid4().hex[:6]}-"
    files = {"file": ("units.csv", _csv(prefix), "text/csv")}
    first = client.post("/api/imports?layer=units&id_field=编号&map=name%3D单位名称",
                        headers=admin, files=files).json()  # fmt: skip
    job = _wait(client, first["id"], admin)
    assert client.get(f"/api/imports/{job['id']}/rejects", headers=admin).status_code == 200
    with session_factory() as session, session.begin():
        session.execute(update(ImportJob).where(ImportJob.id == job["id"])
                        .values(updated_at=datetime.now(UTC) - timedelta(days=8)))  # fmt: skip
        folder = Path(session.get_one(ImportJob, job["id"]).work_dir)
    assert folder.is_dir()
    client.post("/api/imports?layer=units", headers=admin,
                files={"file": ("empty.csv", b"", "text/csv")})  # fmt: skip
    assert not folder.exists()
    assert client.get(f"/api/imports/{job['id']}/rejects", headers=admin).status_code == 404
    assert client.get(f"/api/imports/{job['id']}/report", headers=admin).status_code == 200


def test_only_editing_roles_may_import(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    files = {"file": ("units.csv", _csv("x"), "text/csv")}
    assert client.post("/api/imports?layer=units", headers=planner, files=files).status_code == 403
    assert client.post("/api/imports?layer=units", files=files).status_code == 401
    admin = bearer(client, make_user(session_factory, Role.ADMIN))
    unknown = client.post("/api/imports?layer=nope", headers=admin, files=files)
    assert unknown.status_code == 404


def test_declared_length_over_the_limit_gets_413(
    client: TestClient, admin: dict[str, str], small_limit: Path
) -> None:
    big = b"0" * (LIMIT + 1)
    response = client.post(
        "/api/imports?layer=units", headers=admin, files={"file": ("big.csv", big, "text/csv")}
    )
    assert response.status_code == 413
    assert list(small_limit.iterdir()) == []


def test_a_2_gb_streamed_upload_is_cut_off_at_the_limit(
    client: TestClient, admin: dict[str, str], small_limit: Path
) -> None:
    """Call the app directly: TestClient would buffer the whole body first."""
    chunk, total = b"\0" * (1 << 20), 2 * 1024**3
    head = (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
    )
    sent = 0
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        body = head if sent == 0 else chunk
        sent += len(body)
        return {"type": "http.request", "body": body, "more_body": sent < total}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    headers = [
        (b"host", b"testserver"),
        (b"content-type", b"multipart/form-data; boundary=XyZ"),
        (b"authorization", admin["Authorization"].encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/imports",
        "raw_path": b"/api/imports",
        "query_string": b"layer=units",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(client.app(scope, receive, send))  # type: ignore[arg-type]
    assert status == [413]
    assert sent <= LIMIT + 2 * len(chunk)
    assert list(small_limit.iterdir()) == []


def test_export_over_http_in_gcj02_csv(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get("/api/layers/rail_stations/export?format=csv&crs=gcj02", headers=admin)
    assert response.status_code == 200, response.text
    assert "rail_stations_gcj02.csv" in response.headers["content-disposition"]
    frame = pd.read_csv(io.BytesIO(response.content))
    assert {"id", "external_id", "name", "lon_gcj02", "lat_gcj02"} <= set(frame.columns)
    assert len(frame) > 0
    bad = client.get("/api/layers/rail_stations/export?format=parquet", headers=admin)
    assert bad.status_code == 422
    geojson = client.get("/api/layers/rail_stations/export?format=geojson", headers=admin)
    assert geojson.json()["type"] == "FeatureCollection"


def test_an_upload_without_a_layer_is_refused_and_cleaned_up(
    client: TestClient, admin: dict[str, str], small_limit: Path
) -> None:
    response = client.post(
        "/api/imports", headers=admin, files={"file": ("u.csv", b"a,b\n1,2\n", "text/csv")}
    )
    assert response.status_code == 422 and "layer" in response.json()["detail"]
    assert list(small_limit.iterdir()) == []
