"""Who is on duty for a building, in ladder order: the query the emergency line rings down."""

from steward.store.on_duty import duty_ladder, on_duty_in_tier
from workflows.contracts import Tier


def test_the_duty_ladder_is_the_buildings_handlers_then_team_leads_then_property_managers(database):
    with database.sessions() as session:
        b1 = [(member.tier, member.id) for member in duty_ladder(session, "B1")]
        b2 = {member.id for member in duty_ladder(session, "B2")}
        centre = {member.id for member in duty_ladder(session, None)}
        tier_1 = [member.id for member in on_duty_in_tier(session, Tier.team_lead, "B1")]
    assert [tier for tier, _ in b1] == sorted(tier for tier, _ in b1)
    # other tests may add staff to the seeded community: the seeded ones are there, in their tiers
    assert {"S001", "S002", "S003", "S004", "S005"} <= {staff for tier, staff in b1 if tier == 0}
    assert {"S101", "S102"} <= {staff for tier, staff in b1 if tier == 1}
    assert "S201" in {staff for tier, staff in b1 if tier == 2} and all(tier < 3 for tier, _ in b1)
    assert "S003" not in b2 and "S001" in b2  # S003 covers B1 only
    assert {"S001", "S003", "S101", "S201"} <= centre and "S301" not in centre
    assert tier_1 == sorted(tier_1) and {"S101", "S102"} <= set(tier_1)
