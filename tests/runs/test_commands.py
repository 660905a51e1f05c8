"""validate_scenarios and import_scenarios from the command line."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.support.scripted import PACK


def test_validate_reports_ok_and_errors(tmp_path, capsys):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(PACK, encoding="utf-8")
    bad.write_text(PACK.replace("expect: refuse", "expect: maybe"), encoding="utf-8")
    call_command("validate_scenarios", str(good))
    assert "ok — pack 'test-pack', 2 scenarios" in capsys.readouterr().out
    with pytest.raises(CommandError, match="1 of 2 packs have errors"):
        call_command("validate_scenarios", str(good), str(bad))
    err = capsys.readouterr().err
    line = PACK.splitlines().index("        expect: refuse") + 1
    assert f"{bad}:{line}: scenarios[1].turns[0].expect:" in err


def test_import_into_a_sandbox_and_nothing_when_invalid(tmp_path, sandbox_a, capsys):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(PACK, encoding="utf-8")
    bad.write_text(PACK.replace("test-pack", "other").replace("expect: refuse", "expect: ?"),
                   encoding="utf-8")
    call_command("import_scenarios", str(good), "--sandbox", str(sandbox_a.pk))
    assert "2 created" in capsys.readouterr().out
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_scenarios", str(bad), "--sandbox", str(sandbox_a.pk))
    assert list(sandbox_a.packs.values_list("pack_id", flat=True)) == ["test-pack"]
    with pytest.raises(CommandError, match="no sandbox with id 999999"):
        call_command("import_scenarios", str(good), "--sandbox", "999999")


def test_every_demo_pack_validates():
    from pathlib import Path

    packs = sorted(str(p) for p in (Path(__file__).parents[2] / "fixtures" / "scenarios")
                   .glob("*.yaml"))
    assert len(packs) == 6
    call_command("validate_scenarios", *packs)
