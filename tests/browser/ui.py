"""Small helpers for driving the Gradio page by element id (the app sets elem_id on what tests touch)."""

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import SCREENSHOTS


def shoot(page: Page, name: str) -> None:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png (look at them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def open_app(page: Page, url: str, tab: str | None = None) -> None:
    page.goto(url)
    expect(page.locator("#main-tabs")).to_be_visible()
    if tab:
        open_tab(page, tab)


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def field(page: Page, elem_id: str) -> Locator:
    """The text input or text area inside a component."""
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def fill(page: Page, elem_id: str, text: str) -> None:
    field(page, elem_id).fill(text)


def pick(page: Page, elem_id: str, option: str, *, typed: bool = False) -> None:
    """Choose a dropdown option by its label (or type a custom value and press Enter)."""
    box = page.locator(f"#{elem_id} input").first
    box.click()
    if typed:
        box.fill(option)
        box.press("Enter")
        return
    page.get_by_role("option", name=option).first.click()


def cell(page: Page, elem_id: str, row: int, column: int) -> Locator:
    return page.locator(f"#{elem_id} [data-testid=cell-{row}-{column}]")


def edit_cell(page: Page, elem_id: str, row: int, column: int, text: str) -> None:
    """Double-click a table cell, replace its text, and commit with Enter.

    Keys pressed before the cell's editor has focus go to the table instead (a typed letter there opens
    the editor on the old text and is lost), so wait for the editor, then replace its whole value.
    """
    target = cell(page, elem_id, row, column)
    target.dblclick()
    editor = target.locator("textarea, input").first
    expect(editor).to_be_focused()
    editor.fill(text)
    expect(editor).to_have_value(text)
    editor.press("Enter")
