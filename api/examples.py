"""OpenAPI examples: what a caller pastes into /docs to try each endpoint on the demo community."""

from __future__ import annotations

from typing import Any

CASE_ID = "RP-3MZQ7N2WK4"

CASE_STATE_EXAMPLE: dict[str, Any] = {
    "case_id": CASE_ID, "kind": "repair", "status": "acknowledged", "severity": "urgent",
    "category": "plumbing", "title": "No water in the kitchen", "building_id": "B1", "unit": "101",
    "resident_id": "R001", "tier": 1, "handler_id": "S001", "owner_id": "S001",
    "submitted_at": "2026-11-26T02:00:00Z", "response_due": None, "resolution_due": "2026-11-26T14:00:00Z",
    "warned": False, "response_breached": False, "resolution_breached": False, "paused": False,
    "paused_total": "PT0S", "reopen_count": 0, "withdrawn": False, "callback": None, "callback_attempt": 0,
    "next_deadline": "2026-11-26T11:00:00Z", "next_deadline_kind": "warning",
    "timeline": [
        {"at": "2026-11-26T02:00:00Z", "device_at": None, "actor": {"id": "R001", "role": "resident"},
         "event": "submitted", "detail": {}},
        {"at": "2026-11-26T02:06:00Z", "device_at": "2026-11-26T10:05:40+08:00",
         "actor": {"id": "S001", "role": "staff"}, "event": "acknowledged", "detail": {}},
    ],
}

_BODIES: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
    "submit": {
        "resident": ("A resident reports a repair in their flat", {
            "kind": "repair", "severity": "urgent", "category": "plumbing",
            "title": "No water in the kitchen",
            "description": "The kitchen tap has had no water since this morning.", "building_id": "B1",
            "unit": "101",
        }),
        "staff": ("Staff take a repair by phone for an elderly resident", {
            "kind": "repair", "severity": "normal", "category": "lift", "title": "Lift door closes too fast",
            "description": "Reported by phone: the lift door of building 1 closes before she is in.",
            "building_id": "B1", "resident_id": "R003", "origin": "voice",
        }),
    },
    "acknowledge": {"now": ("Taken in the app", {}),
                    "offline": ("Taken while offline, sent later",
                                {"occurred_at": "2026-11-26T10:05:40+08:00"})},
    "progress": {"note": ("A progress note", {"note": "Valve replaced; testing the pressure."})},
    "pause": {"parts": ("Waiting for parts until a set time", {
        "reason": "awaiting parts: a replacement valve", "resume_at": "2026-11-27T09:00:00+08:00"})},
    "resume": {"now": ("Resume now", {})},
    "reassign": {"electrician": ("Hand the work to the electrician", {
        "handler_id": "S002", "reason": "the fault is in the water heater's wiring"})},
    "severity": {
        "raise": ("Raise the severity", {"severity": "emergency", "reason": "water is reaching the wiring"}),
        "lower": ("Lower it (supervisor)", {"severity": "normal", "reason": "supply restored by a bypass"}),
    },
    "extend": {"contractor": ("Extend for a contractor (supervisor)", {
        "resolution_due": "2026-11-29T18:00:00+08:00",
        "reason": "the pipe is inside the wall; contractor booked",
    })},
    "plan": {"survey": ("A longer plan agreed with the resident of a complaint (supervisor)", {
        "resolution_due": "2026-12-03T18:00:00+08:00",
        "reason": "the noise comes from the lift motor room; a survey is needed",
        "plan": "Noise survey on Monday night; the lift contractor adjusts the motor by Wednesday.",
    })},
    "hearing": {"lift": ("A lift renewal paid from the maintenance fund (supervisor)", {
        "title": "Lift renewal, Building 1",
        "reason": "The lift is 25 years old and failed its annual inspection.",
        "costs": [{"item": "New lift", "amount": "680000.00"},
                  {"item": "Installation", "amount": "45000.00"}],
        "building_ids": ["B1"], "hearing_at": "2026-12-10T19:00:00+08:00", "place": "Community club house",
    })},
    "objection": {"question": ("A resident's question", {"text": "Why not repair the old lift instead?"})},
    "answer": {"written": ("A written answer (staff)", {
        "answer": "Repair quotes were 80% of a new lift; the inspection report is on the notice board."})},
    "held": {"tally": ("The hearing as it was held (supervisor)", {
        "minutes": "The auditor presented the tender; twelve residents spoke.", "attendance": 46,
        "votes_for": 31, "votes_against": 11, "abstentions": 4})},
    "decision": {
        "approved": ("Approved (supervisor)", {"outcome": "approved", "reason": "two thirds voted for"}),
        "revised": ("Approved with revised costs (supervisor)", {
            "outcome": "revised", "reason": "a cheaper model meets the inspection",
            "revised_costs": [{"item": "New lift", "amount": "600000.00"}]}),
    },
    "resolve": {"done": ("Resolved on site", {"note": "Replaced the kitchen valve; water is back."})},
    "withdraw": {"fixed": ("The resident no longer needs it", {"reason": "fixed it myself"})},
    "callback": {"satisfied": ("Called the resident back by phone", {
        "result": "satisfied", "note": "Spoke to her on the phone; the tap works.", "reached_by": "phone"})},
    "callback_answer": {
        "unhappy": ("Not satisfied, with a comment (the resident)", {
            "satisfied": False, "comment": "The tap still drips at night."}),
        "happy": ("Satisfied (the resident)", {"satisfied": True}),
    },
    "photos_added": {"two": ("Two photos uploaded to the case (the resident)", {
        "photos": ["PH-3kq9ZpX0aB1cD2eF", "PH-9ZxY8wV7uT6sR5qP"]})},
}


def examples(name: str) -> dict[str, dict[str, Any]]:
    return {key: {"summary": summary, "value": value} for key, (summary, value) in _BODIES[name].items()}
