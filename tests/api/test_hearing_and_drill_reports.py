"""Reports on hearings and drills, read from the rows their workflows project: a hearing's objection
answered in time, a drill in its building's report, CSV with a byte-order mark for Chinese."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from tests.api.conftest import Api
from tests.api.test_hearing_and_drill_lists import HEARING, listed, short_notice  # noqa: F401 - fixture


async def test_the_hearing_report_counts_objections_answered_in_time_and_downloads_as_csv(
    short_notice: Api,  # noqa: F811
) -> None:
    api = short_notice
    hearing_at = datetime.now(UTC) + timedelta(days=2)
    created = await api.call("supervisor", "POST", "/hearings", HEARING | {
        "title": "电梯更新听证会", "hearing_at": hearing_at.isoformat()})
    assert created.status_code == 201, created.text
    hearing_id = created.json()["hearing_id"]
    api.case_ids.append(hearing_id)
    assert (await api.call("resident", "POST", f"/hearings/{hearing_id}/objections",
                           {"text": "为什么现在？"})).status_code == 201
    assert (await api.call("staff", "POST", f"/hearings/{hearing_id}/objections/1/answer",
                           {"answer": "检验要求今年完成。"})).status_code == 200
    await listed(api, "/hearings", hearing_id, lambda i: i["objections"] == 1 and i["objections_open"] == 0)

    period = {"since": (hearing_at - timedelta(days=1)).date().isoformat(),
              "until": (hearing_at + timedelta(days=1)).date().isoformat()}
    report = await api.call("supervisor", "GET", "/reports/hearings", params=period)
    assert report.status_code == 200, report.text
    figures = next(row for row in report.json()["by_hearing"] if row["hearing_id"] == hearing_id)
    assert (figures["objections"], figures["answered"], figures["answered_in_time"]) == (1, 1, 1)
    assert figures["median_answer_hours"] is not None and figures["median_answer_hours"] < 1
    assert figures["title"] == "电梯更新听证会"

    download = await api.call("supervisor", "GET", "/reports/hearings", params=period | {"format": "csv"})
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert next(row for row in rows if row["hearing_id"] == hearing_id)["title"] == "电梯更新听证会"
    assert (await api.call("staff", "GET", "/reports/hearings")).status_code == 403


async def test_the_drill_report_lists_a_drill_of_the_building(api: Api) -> None:
    scheduled = datetime.now(UTC) + timedelta(days=4)
    created = await api.call("supervisor", "POST", "/drills", {
        "drill_type": "flood", "building_id": "B2", "scheduled_at": scheduled.isoformat()})
    assert created.status_code == 201, created.text
    drill_id = created.json()["drill_id"]
    api.case_ids.append(drill_id)
    await listed(api, "/drills", drill_id, lambda i: i["status"] == "announced")

    period = {"since": (scheduled - timedelta(days=1)).date().isoformat(),
              "until": (scheduled + timedelta(days=1)).date().isoformat()}
    report = (await api.call("supervisor", "GET", "/reports/drills",
                             params=period | {"building": "B2"})).json()
    figures = next(row for row in report["by_drill"] if row["drill_id"] == drill_id)
    assert (figures["drill_type"], figures["findings"], figures["started_late"]) == ("flood", 0, False)
    assert figures["households_told"] > 0
    elsewhere = (await api.call("supervisor", "GET", "/reports/drills",
                                params=period | {"building": "B1"})).json()
    assert drill_id not in {row["drill_id"] for row in elsewhere["by_drill"]}
