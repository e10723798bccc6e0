"""The managers' pages on a phone: no page is wider than a 390 px screen, in a
left-to-right and a right-to-left language (screenshots in artifacts/)."""

from __future__ import annotations

import pytest

from .conftest import new_page, sign_in


@pytest.mark.parametrize("language", ["vi", "ar"])
@pytest.mark.parametrize("path", ["/map", "/dashboard"])
def test_no_page_is_wider_than_a_phone(browser, live_server, artifacts, path, language):
    page = new_page(browser, live_server, locale=language, viewport=(390, 844))
    try:
        sign_in(page, path, "manager1")
        page.get_by_test_id("language-select").select_option(language)
        page.wait_for_function(f"document.documentElement.lang === '{language}'")
        direction = "rtl" if language == "ar" else "ltr"
        assert page.evaluate("document.documentElement.dir") == direction
        page.screenshot(path=str(artifacts / f"{path.strip('/')}-{language}-390.png"))
        wider = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wider <= 0, f"{path} in {language} is {wider} px wider than the screen"
    finally:
        page.context.close()
