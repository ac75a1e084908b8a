"""How a resident's page names the staff on their case: enough to greet, never enough to find at home.

A name written in Chinese is said the way residents address staff here, surname and the role's
honorific (王师傅, 李经理), never the full name; a name in Latin letters by its first word.
"""

from __future__ import annotations

import re

from workflows.contracts import Tier

HONORIFICS = {Tier.handler: "师傅", Tier.team_lead: "组长", Tier.property_manager: "经理",
              Tier.general_manager: "总经理"}
# The two-character surnames still common enough to meet on a staff list.
COMPOUND_SURNAMES = frozenset("欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 "
                              "端木 独孤 南宫 西门 申屠".split())
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def form_of_address(name: str, tier: Tier) -> str:
    name = name.strip()
    if _HAN.match(name):
        surname = name[:2] if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else name[:1]
        return surname + HONORIFICS[tier]
    words = name.split()
    return words[0] if words else name
