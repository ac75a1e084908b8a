"""The resident's page names staff as residents address them, never by a full Chinese name."""

from __future__ import annotations

import pytest

from api.forms_of_address import form_of_address
from workflows.contracts import Tier


@pytest.mark.parametrize(("name", "tier", "said"), [
    ("王伟", Tier.handler, "王师傅"),
    ("李建国", Tier.property_manager, "李经理"),
    ("欧阳娜娜", Tier.team_lead, "欧阳组长"),
    ("欧阳", Tier.handler, "欧师傅"),  # a two-character name: the first is the surname
    ("张敏", Tier.general_manager, "张总经理"),
    ("Wang Wei", Tier.handler, "Wang"),
    ("  Mary Ann Smith ", Tier.team_lead, "Mary"),
])
def test_a_name_is_said_as_residents_say_it(name: str, tier: Tier, said: str) -> None:
    assert form_of_address(name, tier) == said
