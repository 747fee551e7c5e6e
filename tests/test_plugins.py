"""The plugin host: entry points, broken and disabled plugins, registries, the CLI listing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from crmlink import PluginHost, Transform, hookimpl
from crmlink.catalog import CrmFieldType
from crmlink.definitions import FieldType


@pytest.fixture
def plugin_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real installed-looking distribution with two entry points, one of them broken."""
    site = tmp_path / "site"
    (site / "good_plugin.py").parent.mkdir(parents=True)
    (site / "good_plugin.py").write_text(
        textwrap.dedent("""
        from crmlink import hookimpl
        from crmlink.catalog import CrmFieldType
        from crmlink.definitions import FieldType
        from crmlink.transforms import Transform

        @hookimpl
        def register_transforms(register):
            register(Transform("upper", "Upper-case text", frozenset({(FieldType.STRING, None)}),
                               frozenset({CrmFieldType.STRING}), str.upper))
    """)
    )
    (site / "broken_plugin.py").write_text("import does_not_exist\n")
    info = site / "crmlink_test_plugins-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: crmlink-test-plugins\nVersion: 1.2.3\n"
    )
    (info / "entry_points.txt").write_text(
        "[crmlink]\ngood = good_plugin\nbroken = broken_plugin\n"
    )
    monkeypatch.syspath_prepend(str(site))
    return site


def test_a_plugin_that_fails_to_import_is_skipped_with_a_warning(plugin_dist: Path) -> None:
    with pytest.warns(RuntimeWarning, match="'broken' \\(crmlink-test-plugins\\) failed to load"):
        host = PluginHost()
    assert "upper" in host.transforms()
    assert "memory" in host.connectors()


def test_disabled_plugins_are_not_loaded(
    plugin_dist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMLINK_DISABLE_PLUGINS", "broken, good")
    host = PluginHost()
    assert "upper" not in host.transforms()
    monkeypatch.setenv("CRMLINK_DISABLE_PLUGINS", "broken,crmlink-memory")
    assert "memory" not in PluginHost().connectors()


def test_connectors_know_their_distribution_and_version() -> None:
    info = PluginHost().connectors()["memory"]
    assert (info.distribution, info.version) == ("crmlink-memory", "0.1.0")


def test_plugins_register_transforms_through_the_hook() -> None:
    class Plugin:
        @hookimpl
        def register_transforms(self, register: Callable[[Transform], None]) -> None:
            register(
                Transform(
                    "cents",
                    "Euros to cents",
                    frozenset({(FieldType.NUMBER, None)}),
                    frozenset({CrmFieldType.INTEGER}),
                    lambda v: round(v * 100),
                )
            )

    host = PluginHost(load_entry_points=False, plugins=[Plugin()])
    assert {"date", "datetime", "string", "cents"} <= set(host.transforms())
    assert host.transforms()["cents"].apply(1.5) == 150


def test_cli_lists_connectors_with_distribution_and_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "crmlink.cli", "connectors"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = {line.split("\t")[0]: line.split("\t") for line in out.splitlines()}
    assert rows["memory"] == ["memory", "crmlink-memory", "0.1.0"]
