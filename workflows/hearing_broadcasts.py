"""What a hearing's broadcasts say: the notice with its costs, the reminder, the decision and its total."""

from __future__ import annotations

from decimal import Decimal

from workflows.hearing_contracts import CostItem, DecisionRecord, HearingInput, Phase


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def cost_summary(costs: list[CostItem]) -> str:
    return "; ".join(f"{cost.item} {money(cost.amount)}" for cost in costs)


def broadcast_params(
    hearing_id: str, hearing: HearingInput, decision: DecisionRecord | None, phase: Phase
) -> dict[str, str]:
    if phase is Phase.decision:
        assert decision is not None
        costs = decision.revised_costs or hearing.costs
        return {
            "code": hearing_id,
            "title": hearing.title,
            "outcome": decision.outcome.value,
            "reason": decision.reason,
            "total": money(sum(c.amount for c in costs)),
        }
    params = {
        "code": hearing_id,
        "title": hearing.title,
        "hearing_at": hearing.hearing_at.isoformat(),
        "place": hearing.place,
    }
    if phase is Phase.notice:
        total = money(sum(c.amount for c in hearing.costs))
        return params | {"costs": cost_summary(hearing.costs), "total": total}
    return params
