"""CRM Link in a real headless Chromium: the example host page opens the modal, the end user maps
``create_opportunity`` onto a Salesforce (emulator) Opportunity, saves, and the app's next
invocation lands in the emulator. Also: a refused save, a token for another connection, closing,
and the whole flow with the keyboard only. Screenshots: artifacts/<test>--<viewport>--<step>.png.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from crmlink.testing import DEMO_OBJECTS
from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    MOBILE,
    MODAL,
    HostPage,
    link_salesforce,
    link_token,
    salesforce_settings,
)
from tests.server.conftest import App, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

CREATE = "objects.opportunity.events.create_opportunity"


def _new_page(browser: Any, viewport: dict[str, int]) -> Any:
    page = browser.new_page(viewport=viewport, locale="en-US")
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    return page


def _link_frame(page: Any) -> Any:
    """The CRM Link iframe as a Frame (for reading focus in keyboard tests)."""
    frame = page.wait_for_selector(MODAL).content_frame()
    assert frame is not None
    frame.wait_for_selector("#title")
    return frame


def _open_from_host(page: Any, host: HostPage) -> Any:
    page.goto(host.url)
    page.get_by_role("button", name="Connect your CRM").click()
    modal = page.frame_locator(MODAL)
    modal.get_by_role("heading", name="Your CRM connection").wait_for()
    return modal


def _start_link(page: Any, base_url: str, token: str, connection_id: str) -> None:
    """Call crmlink.linkCRM from the host page; the outcome lands in window.__outcome."""
    page.evaluate(
        """([base, token, id]) => {
            window.__outcome = null;
            crmlink.linkCRM(base, token, {connectionID: id}).then(
                (value) => { window.__outcome = "resolved:" + value; },
                (error) => { window.__outcome = "rejected:" + error.message; });
        }""",
        [base_url, token, connection_id],
    )


def _outcome(page: Any) -> str:
    page.wait_for_function("window.__outcome !== null")
    result: str = page.evaluate("window.__outcome")
    return result


def _invoke(app: App, connection_id: str, name: str) -> httpx.Response:
    with app.http() as http:
        return http.post(
            f"/api/v1/crm/{connection_id}/objects/opportunity/events/create_opportunity",
            json={"payload": {"name": name}},
        )


# -- the main flow --------------------------------------------------------------------------------
@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "mobile"])
def test_map_create_opportunity_onto_salesforce_then_invoke_it(
    browser: Any,
    server: LiveServer,
    app: App,
    emulator: Any,
    host_page: HostPage,
    shoot: Any,
    viewport: dict[str, int],
) -> None:
    link_salesforce(app, host_page.connection_id, emulator)
    page = _new_page(browser, viewport)
    modal = _open_from_host(page, host_page)
    expect_text = modal.locator("#connection .pill")
    assert expect_text.inner_text() == "Connected"
    shoot(page, "1-opened")

    # Choose the CRM object: the suggested match comes first.
    crm_select = modal.get_by_label("Choose an object from your CRM for Opportunity")
    suggested = crm_select.locator("optgroup[label='Suggested'] option").all_inner_texts()
    assert suggested == ["★ Opportunity (Opportunity)"]
    crm_select.select_option("Opportunity")
    create = modal.locator(f"fieldset[data-path='{CREATE}']")
    create.get_by_role("button", name="Set a fixed Stage").wait_for()

    # The payload's name is pre-mapped onto the suggested Name; required fields are listed.
    name_input = create.get_by_role("combobox", name="Opportunity field for Opportunity Name")
    assert name_input.input_value() == "Name (Name)"
    required = create.locator(".required")
    assert "Stage (StageName)" in required.inner_text()
    assert "Close Date (CloseDate)" in required.inner_text()

    # Only type-compatible, createable fields are offered, searchable by label and API name.
    name_input.click()
    name_input.fill("amount")  # a number field: a string cannot feed it
    listbox = create.locator("[role='listbox']:visible")
    assert listbox.locator("[role='option']").all_inner_texts() == ["Don't send this"]
    name_input.fill("leadsource")  # by API name
    assert listbox.locator("[role='option']").all_inner_texts()[1:] == ["Lead Source\nLeadSource"]
    name_input.fill("descr")  # by label
    assert "Description" in listbox.locator("[role='option']").all_inner_texts()[1]
    name_input.press("Escape")
    assert name_input.input_value() == "Name (Name)"

    # Constants for the required fields: the picklist offers its values.
    create.get_by_role("button", name="Set a fixed Stage").click()
    stage = create.get_by_label("Fixed value 1: value")
    assert "Prospecting" in stage.locator("option").all_inner_texts()
    stage.select_option("Qualification")
    create.get_by_role("button", name="Set a fixed Close Date").click()
    create.get_by_label("Fixed value 2: value").fill("2026-12-31")
    assert "Every field your CRM requires on create is covered" in (
        create.locator(".required").inner_text()
    )

    # The update event: a date-time payload field onto a date field gets the date conversion.
    updated = modal.locator("fieldset[data-path='objects.opportunity.events.document_updated']")
    when = updated.get_by_role("combobox", name="Opportunity field for Document Last Update Time")
    when.click()
    when.fill("close date")
    updated.get_by_role("option", name="Close Date").click()
    conversion = updated.get_by_label("Conversion")
    assert conversion.locator("option").all_inner_texts() == ["Convert to a date (ISO 8601)"]

    # Contact: opt out.
    modal.get_by_label("Choose an object from your CRM for Contact").select_option(
        label="Don't map this object"
    )
    create.scroll_into_view_if_needed()
    create.evaluate("el => el.scrollIntoView({block: 'start'})")
    shoot(page, "2-mapped")
    when.click()
    when.fill("date")
    shoot(page, "2b-searching")
    when.press("Escape")
    modal.get_by_role("button", name="Save and finish").click()
    page.get_by_text(f"Connected: {host_page.connection_id}").wait_for()
    expect(page.locator(MODAL)).to_have_count(0)
    shoot(page, "3-finished")

    with app.http() as http:
        saved = http.get(f"/api/v1/crm/{host_page.connection_id}/mapping").json()
    opportunity = saved["mapping"]["objects"]["opportunity"]
    assert opportunity["events"]["create_opportunity"] == {
        "action": "create",
        "fields": {
            "Name": {"from": "name"},
            "StageName": {"value": "Qualification"},
            "CloseDate": {"value": "2026-12-31"},
        },
    }
    assert opportunity["events"]["document_updated"]["fields"]["CloseDate"] == {
        "from": "updated_at",
        "transform": "date",
    }
    assert saved["mapping"]["objects"]["contact"] == {"crm_object": None}

    # The app invokes the event; the record is in the emulator.
    answer = _invoke(app, host_page.connection_id, "Apple Sales Contract")
    assert answer.status_code == 200, answer.text
    record_id = answer.json()["record"]["id"]
    crm_object, native_id = record_id.split(":", 1)
    assert crm_object == "Opportunity"
    from crmlink_salesforce.emulator.client import simple_salesforce_client

    stored = simple_salesforce_client(emulator).Opportunity.get(native_id)
    assert stored["Name"] == "Apple Sales Contract"
    assert stored["StageName"] == "Qualification"
    assert stored["CloseDate"] == "2026-12-31"

    # Reopening shows the saved mapping.
    page.get_by_role("button", name="Connect your CRM").click()
    modal = page.frame_locator(MODAL)
    create = modal.locator(f"fieldset[data-path='{CREATE}']")
    create.locator(".required.ok").wait_for()
    assert create.get_by_label("Fixed value 1: value").input_value() == "Qualification"
    assert create.get_by_label("Fixed value 2: value").input_value() == "2026-12-31"
    assert modal.locator("#object-opportunity .object-head .pill").inner_text() == "Mapped"
    shoot(page, "4-reopened")
    page.keyboard.press("Escape")
    page.get_by_text("Closed: Modal was closed without finishing the mapping.").wait_for()
    assert page.js_errors == []
    page.close()


def test_a_refused_save_shows_each_problem_next_to_its_row(
    browser: Any, server: LiveServer, app: App, emulator: Any, shoot: Any
) -> None:
    link_salesforce(app, "acme", emulator)
    token = link_token(app, "acme")
    page = _new_page(browser, DESKTOP)
    page.goto(f"{server.url}/link/#token={token}")
    assert "token" not in page.url  # the token leaves the address bar at once
    page.get_by_label("Choose an object from your CRM for Opportunity").select_option("Opportunity")
    create = page.locator(f"fieldset[data-path='{CREATE}']")
    create.get_by_role("button", name="Set a fixed Stage").wait_for()
    # A workflow needs its name: leave it empty on the update event.
    page.get_by_label("When this happens").nth(1).select_option("workflow")
    page.get_by_role("button", name="Save and finish").click()

    summary = page.locator("#summary")
    summary.wait_for()
    assert summary.evaluate("el => el === document.activeElement")
    rules = create.locator(f"[data-path='{CREATE}.fields'] > .row-error")
    assert "StageName (Stage) is required on create" in " ".join(rules.all_inner_texts())
    assert "CloseDate (Close Date) is required on create" in " ".join(rules.all_inner_texts())
    workflow_row = page.locator(
        "[data-path='objects.opportunity.events.document_updated.workflow']"
    )
    assert "name the CRM workflow event" in workflow_row.locator(".row-error").inner_text()
    workflow_input = workflow_row.get_by_label("Workflow event name in your CRM")
    assert workflow_input.get_attribute("aria-invalid") == "true"
    contact = page.locator("#object-contact .row-error")
    assert "no choice made" in contact.inner_text()
    assert page.get_by_role("status").filter(has_text="Not saved.").count() == 1
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "refused", full_page=True)
    summary.scroll_into_view_if_needed()
    shoot(page, "refused-summary")
    with app.http() as http:
        assert http.get("/api/v1/crm/acme/mapping").json()["mapping"] is None
    assert page.js_errors == []
    page.close()


def test_a_token_for_another_connection_is_refused_and_rejects(
    browser: Any, server: LiveServer, app: App, emulator: Any, host_page: HostPage, shoot: Any
) -> None:
    link_salesforce(app, "acme", emulator)
    link_salesforce(app, "beta", emulator)
    page = _new_page(browser, DESKTOP)
    page.goto(host_page.url)
    _start_link(page, server.url, link_token(app, "beta"), "acme")
    modal = page.frame_locator(MODAL)
    alert = modal.get_by_role("alert")
    alert.wait_for()
    assert 'This link token is for connection "beta", not "acme".' in alert.inner_text()
    assert modal.locator("#objects").is_hidden()
    assert modal.get_by_role("button", name="Save and finish").is_hidden()
    shoot(page, "other-connection")
    modal.get_by_role("button", name="Close", exact=True).click()
    assert _outcome(page) == 'rejected:This link token is for connection "beta", not "acme".'
    expect(page.locator(MODAL)).to_have_count(0)
    page.close()


@pytest.mark.parametrize("kind", ["forged", "expired"])
def test_a_dead_token_shows_why_and_rejects_on_close(
    browser: Any, server: LiveServer, app: App, emulator: Any, host_page: HostPage, kind: str
) -> None:
    link_salesforce(app, "acme", emulator)
    if kind == "forged":
        token = link_token(app, "acme")[:-4] + "AAAA"
    else:
        token = link_token(app, "acme", ttl_seconds=1)
        page_wait = 1.2
        import time

        time.sleep(page_wait)
    page = _new_page(browser, DESKTOP)
    page.goto(host_page.url)
    _start_link(page, server.url, token, "acme")
    modal = page.frame_locator(MODAL)
    modal.get_by_role("alert").wait_for()
    assert "This link is no longer valid" in modal.get_by_role("alert").inner_text()
    page.keyboard.press("Escape")
    assert _outcome(page).startswith("rejected:This link is no longer valid")
    page.close()


def test_closing_rejects_and_gives_focus_back(
    browser: Any, app: App, emulator: Any, host_page: HostPage
) -> None:
    link_salesforce(app, host_page.connection_id, emulator)
    page = _new_page(browser, DESKTOP)
    modal = _open_from_host(page, host_page)
    # The host page is inert behind the modal.
    assert page.locator("main").evaluate("el => el.inert") is True
    modal.get_by_role("button", name="Close CRM Link").click()
    page.get_by_text("Closed: Modal was closed without finishing the mapping.").wait_for()
    assert page.locator("main").evaluate("el => el.inert") is False
    assert page.evaluate("document.activeElement.id") == "connect"
    page.close()


# -- keyboard only --------------------------------------------------------------------------------
def _focus(frame: Any) -> dict[str, str]:
    info: dict[str, str] = frame.evaluate(
        """() => {
            const el = document.activeElement;
            const label = el && el.labels && el.labels.length ? el.labels[0].textContent : "";
            return {id: el ? el.id : "", tag: el ? el.tagName : "",
                    text: (el && el.textContent || "").trim(), label: label.trim(),
                    aria: el && el.getAttribute("aria-label") || ""};
        }"""
    )
    return info


def _tab_to(page: Any, frame: Any, match: Any, limit: int = 120) -> dict[str, str]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = _focus(frame)
        if match(info):
            return info
    raise AssertionError("Tab never reached the control")


def test_keyboard_only(
    browser: Any, app: App, emulator: Any, host_page: HostPage, shoot: Any
) -> None:
    link_salesforce(app, host_page.connection_id, emulator)
    page = _new_page(browser, DESKTOP)
    page.goto(host_page.url)
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "connect":
            break
    page.keyboard.press("Enter")
    frame = _link_frame(page)
    frame.wait_for_selector("#object-opportunity-crm:not([disabled])")

    _tab_to(page, frame, lambda f: f["id"] == "object-opportunity-crm")
    page.keyboard.press("ArrowDown")  # the first choice: the suggested Opportunity
    frame.wait_for_selector(f"fieldset[data-path='{CREATE}'] .required")
    assert _focus(frame)["id"] == "object-opportunity-crm"

    _tab_to(page, frame, lambda f: f["text"] == "Set a fixed Stage")
    page.keyboard.press("Enter")
    assert _focus(frame)["label"] == "Fixed value 1: value"  # focus moves to the new value
    _tab_to(page, frame, lambda f: f["text"] == "Set a fixed Close Date")
    page.keyboard.press("Enter")
    assert _focus(frame)["label"] == "Fixed value 2: value"
    page.keyboard.type("12312026")

    # The searchable combobox: type, arrows, Enter; Escape closes only the list.
    _tab_to(
        page,
        frame,
        lambda f: f["aria"] == "" and f["label"].endswith("for Document Last Update Time"),
    )
    page.keyboard.type("descr")
    page.keyboard.press("Escape")
    page.wait_for_timeout(400)
    assert page.locator(MODAL).is_visible()  # Escape closed the list, not the modal
    page.keyboard.type("close")
    page.keyboard.press("Enter")
    assert _focus(frame)["label"].endswith("for Document Last Update Time")
    assert (
        frame.locator(
            "[data-path='objects.opportunity.events.document_updated.fields.CloseDate']"
        ).count()
        == 1
    )

    _tab_to(page, frame, lambda f: f["id"] == "object-contact-crm")
    page.keyboard.press("End")  # the last choice: don't map this object
    frame.wait_for_function("document.getElementById('object-contact-crm').value === '__opt_out__'")
    shoot(page, "keyboard-before-save")
    _tab_to(page, frame, lambda f: f["id"] == "save")
    page.keyboard.press("Enter")
    page.get_by_text(f"Connected: {host_page.connection_id}").wait_for()
    assert page.evaluate("document.activeElement.id") == "connect"

    answer = _invoke(app, host_page.connection_id, "Keyboard Deal")
    assert answer.status_code == 200, answer.text
    with app.http() as http:
        mapping = http.get(f"/api/v1/crm/{host_page.connection_id}/mapping").json()["mapping"]
    fields = mapping["objects"]["opportunity"]["events"]["create_opportunity"]["fields"]
    assert fields["CloseDate"] == {"value": "2026-12-31"}
    assert fields["StageName"]["value"]
    assert page.js_errors == []
    page.close()


# -- credentials and the definition ---------------------------------------------------------------
def test_the_end_user_replaces_broken_crm_credentials(
    browser: Any, app: App, emulator: Any, host_page: HostPage, shoot: Any
) -> None:
    settings = {**salesforce_settings(emulator), "access_token": "expired-session"}
    with app.client() as client:
        client.link(host_page.connection_id, "salesforce", settings, DEMO_OBJECTS)
    page = _new_page(browser, MOBILE)
    modal = _open_from_host(page, host_page)
    assert modal.locator("#connection .pill").inner_text() == "Needs attention"
    assert "requires attention" in modal.locator("#connection [role='alert']").inner_text()
    assert modal.get_by_label("Choose an object from your CRM for Opportunity").count() == 0
    token_input = modal.get_by_label("Access Token")
    assert token_input.get_attribute("type") == "password"
    assert token_input.input_value() == ""  # secrets are never sent to the page
    shoot(page, "broken")
    token_input.fill(emulator.token)
    modal.get_by_role("button", name="Save credentials").click()
    modal.get_by_text("Saved. Your CRM answered.").wait_for()
    assert modal.locator("#connection .pill").inner_text() == "Connected"
    modal.get_by_label("Choose an object from your CRM for Opportunity").wait_for()
    shoot(page, "repaired")
    with app.http() as http:
        health = http.get(f"/api/v1/crm/{host_page.connection_id}/health").json()
    assert health["ok"] is True
    page.close()


def test_link_crm_objects_replace_the_definition(
    browser: Any, server: LiveServer, app: App, emulator: Any, host_page: HostPage
) -> None:
    link_salesforce(app, "acme", emulator)
    page = _new_page(browser, DESKTOP)
    page.goto(host_page.url)
    only_opportunity = {"opportunity": DEMO_OBJECTS["opportunity"]}
    page.evaluate(
        """([base, token, objects]) => {
            window.__outcome = null;
            crmlink.linkCRM(base, token, {connectionID: "acme", objects}).then(
                (value) => { window.__outcome = "resolved:" + value; },
                (error) => { window.__outcome = "rejected:" + error.message; });
        }""",
        [server.url, link_token(app, "acme", allow_definition=True), only_opportunity],
    )
    modal = page.frame_locator(MODAL)
    modal.get_by_label("Choose an object from your CRM for Opportunity").wait_for()
    assert modal.locator("#object-contact").count() == 0
    with app.http() as http:
        assert set(http.get("/api/v1/crm/acme").json()["objects"]) == {"opportunity"}
    page.keyboard.press("Escape")
    assert _outcome(page) == "rejected:Modal was closed without finishing the mapping."
    # Without allow_definition the page refuses to change it, and says so.
    page.evaluate(
        """([base, token, objects]) => {
            window.__outcome = null;
            crmlink.linkCRM(base, token, {objects}).then(
                (value) => { window.__outcome = "resolved:" + value; },
                (error) => { window.__outcome = "rejected:" + error.message; });
        }""",
        [server.url, link_token(app, "acme"), DEMO_OBJECTS],
    )
    alert = page.frame_locator(MODAL).get_by_role("alert")
    alert.wait_for()
    assert "may not change the definition" in alert.inner_text()
    page.keyboard.press("Escape")
    assert "may not change the definition" in _outcome(page)
    page.close()
