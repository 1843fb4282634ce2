"""The Team tab in a real browser (login off: the local admin acts): accounts, a change, the activity."""

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from backend.access import auth
from tests.browser.conftest import Studio
from tests.browser.ui import fill, open_app, pick, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_admin_disables_enables_and_resets_a_password_in_the_team_tab(page: Page, studio: Studio) -> None:
    open_app(page, studio.url, "Team")
    expect(page.locator("#team-accounts")).to_contain_text("victor")
    pick(page, "team-account", "victor (viewer, active)")
    page.click("#team-disable")
    expect(page.locator("#team-status")).to_contain_text("victor is disabled")
    expect(page.locator("#team-activity")).to_contain_text("account disabled")
    pick(page, "team-account", "victor (viewer, disabled)")
    page.click("#team-enable")
    expect(page.locator("#team-status")).to_contain_text("victor can log in again")
    pick(page, "team-account", "victor (viewer, active)")
    fill(page, "team-password", "typed in the browser")
    page.click("#team-set-password")
    expect(page.locator("#team-status")).to_contain_text("New password set for victor")
    expect(page.locator("#team-password input")).to_have_value("")
    shoot(page, "team")
    with Session(studio.engine) as session:
        assert auth.authenticate(session, username="victor", password="typed in the browser") is not None
        auth.set_password(session, username="victor", password="correct-horse-battery", by=None)
