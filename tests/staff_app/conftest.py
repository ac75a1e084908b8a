"""The staff app in a real browser: Debian's Chromium at a phone's size, driven by Playwright, against
Steward served by uvicorn on a port, the real worker on the dev server and a Twilio sandbox of its own
(the console tests' machinery). An app notice left unread goes by SMS after 3 seconds here, and a drill
needs only 90 s of notice, so one can be run through to its survey in a test."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, Page
from temporalio.testing import WorkflowEnvironment

from tests.console.conftest import PATIENCE_S, Console, pages_running

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "staff_app"
PHONE = {"width": 360, "height": 740}
APP_UNREAD_S = 3


class StaffApp(Console):
    """The console tests' Steward, with phones to sign in from."""

    async def phone(self, locale: str = "en") -> tuple[BrowserContext, Page]:
        context = await self.browser.new_context(
            locale=locale, timezone_id="Asia/Shanghai", viewport=PHONE, device_scale_factor=2, is_mobile=True,
            has_touch=True,
        )
        page = await context.new_page()
        page.set_default_timeout(15_000)
        return context, page

    async def texts_to(self, phone: str) -> list[str]:
        async with httpx.AsyncClient(base_url=self.sandbox_url) as sandbox:
            return [m["body"] for m in (await sandbox.get("/sandbox/messages", params={"to": phone})).json()]

    async def codes_to(self, phone: str) -> list[str]:
        """The sign-in texts that reached `phone`."""
        return [text for text in await self.texts_to(phone) if "sign-in code" in text or "登录验证码" in text]

    async def code_for(self, phone: str, seen: int) -> str:
        """The code in the first sign-in text to `phone` after the `seen` ones before it."""
        deadline = asyncio.get_running_loop().time() + PATIENCE_S
        while len(codes := await self.codes_to(phone)) <= seen:
            assert asyncio.get_running_loop().time() < deadline, f"no sign-in code reached {phone}"
            await asyncio.sleep(0.1)
        return re.search(r"\b(\d{6})\b", codes[-1]).group(1)

    async def sign_in(self, page: Page, phone: str) -> None:
        """Sign in as a person would: ask for a code, read it on the phone (the sandbox), type it."""
        seen = len(await self.codes_to(phone))
        await page.goto(f"{self.base_url}/app/")
        await page.fill("#phone", phone)
        await page.click("#phone-form button[type=submit]")
        await page.wait_for_selector("#code-form:not([hidden])")
        await page.fill("#code", await self.code_for(phone, seen))
        await page.click("#code-form button[type=submit]")


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
async def staff_app(dev_env: WorkflowEnvironment, empty_database_url, worker_for,
                    tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[StaffApp]:
    directory = tmp_path_factory.mktemp("staff-app")
    policy = directory / "policy.toml"
    policy.write_text(f'[delivery]\napp_unread_sms_after = "{APP_UNREAD_S}s"\n', encoding="utf-8")
    async with pages_running(StaffApp, dev_env, empty_database_url, worker_for, sla_policy=policy,
                             photo_dir=directory / "photos", drill_notice_period="90s") as app:
        yield app
