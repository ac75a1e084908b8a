"""The names Temporal knows our activities, updates and signals by, written once.

Workflows call activities by these names (they cannot import the activities), the activities register
under them, the API sends updates and signals by them, and the timeline reads them back from histories.
A name is part of every recorded history: changing one breaks replay, so they only ever grow.
"""

from __future__ import annotations


class Activity:
    NOTIFY = "notify.send"
    NOTIFY_RESIDENT = "notify.send_to_resident"
    NOTIFY_MANY = "notify.send_many"
    NOTIFY_STAFF = "notify.send_to_staff"
    APP_NOTICE_READ = "notify.app_notice_read"
    PROJECT_CASE = "projection.project"
    PROJECT_CASE_EVENTS = "projection.project_case_events"
    PROJECT_HEARING = "projection.project_hearing"
    PROJECT_DRILL = "projection.project_drill"
    KEEP_OBJECTION = "hearings.keep_objection"
    DISPATCH = "directory.dispatch"
    ON_DUTY_FOR_TIER = "directory.on_duty_for_tier"
    RESIDENT_CONTACT = "directory.resident_contact"
    STAFF_CONTACT = "directory.staff_contact"
    RESIDENT_PAGES = "directory.resident_pages"
    RESIDENTS_IN = "directory.residents_in"
    OPEN_REPORTS = "directory.open_reports"
    PROJECT_INCIDENT = "projection.project_incident"


class CaseUpdate:
    ACKNOWLEDGE = "acknowledge"
    PAUSE = "pause"
    RESUME = "resume"
    REASSIGN = "reassign"
    HAND_ON = "hand_on"
    CHANGE_SEVERITY = "change_severity"
    EXTEND = "extend"
    AGREE_PLAN = "agree_plan"
    RESOLVE = "resolve"
    WITHDRAW = "withdraw"
    RECORD_CALLBACK = "record_callback"
    ANSWER_CALLBACK = "answer_callback"
    ADD_PHOTOS = "add_photos"
    JOIN_INCIDENT = "join_incident"


class CaseSignal:
    PROGRESS = "progress"
    RESIDENT_MESSAGE = "resident_message"
    DEVICE_READING = "device_reading"
    CALLBACK_REPLY = "callback_reply"
    DELIVERY_FAILED = "delivery_failed"
    FAULT_FIXED = "fault_fixed"
    INCIDENT_RESTORED = "incident_restored"


class HearingSignal:
    OBJECTOR_CALLED_BACK = "objector_called_back"


class HearingUpdate:
    REGISTER_OBJECTION = "register_objection"
    ANSWER_OBJECTION = "answer_objection"
    RECORD_HEARING = "record_hearing"
    DECIDE = "decide"


class DrillUpdate:
    START = "start"
    COMPLETE = "complete"
    FILE_REPORT = "file_report"
    ANSWER_SURVEY = "answer_survey"


class InspectionUpdate:
    FILE_REPORT = "file_report"


class DrillSignal:
    STEP_DONE = "step_done"
    CALLBACK_REPLY = "callback_reply"
    DELIVERY_FAILED = "delivery_failed"


class IncidentUpdate:
    ATTACH = "attach"
    RESTORE = "restore"
    CHANGE_RESTORATION = "change_restoration"


class IncidentSignal:
    CASE_JOINED = "case_joined"
    DETACH = "detach"


class DeviceSignal:
    MESSAGE = "message"
    RETIRE = "retire"


# The error type a projection activity raises when the database refuses a row for good; the timeline
# tells supervisors about it.
PROJECTION_REJECTED = "ProjectionRejected"
