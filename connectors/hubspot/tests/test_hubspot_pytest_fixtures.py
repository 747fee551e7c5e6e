"""The fixtures shipped for users' own tests, run by pytest itself (pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_shipped_fixtures_serve_a_fresh_emulator_per_test(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["crmlink_hubspot.pytest_fixtures"]\n')
    pytester.makepyfile(
        """
        import hubspot
        from hubspot.crm.objects import SimplePublicObjectInputForCreate


        def _client(emulator):
            return hubspot.Client.create(access_token=emulator.token, host=emulator.url)


        def test_first(hubspot_emulator):
            _client(hubspot_emulator).crm.objects.basic_api.create(
                "contacts", SimplePublicObjectInputForCreate(properties={"email": "a@x.io"}))
            assert len(hubspot_emulator.records("contacts")) == 1
            hubspot_emulator.control.unavailable()


        def test_second_starts_empty(hubspot_emulator):
            assert hubspot_emulator.records("contacts") == []
            page = _client(hubspot_emulator).crm.objects.basic_api.get_page("contacts")
            assert page.results == []
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
