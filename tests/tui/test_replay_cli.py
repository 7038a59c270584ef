"""`twb replay NAME` / `twb attach NAME` with two sessions of that name: which one opens, and saying so."""
import pytest

from core import cli as core_cli
from tests.synthetic_sessions import write_synthetic_session


class OpenedViewer:
    return_code = 0

    def run(self) -> None:
        pass


@pytest.mark.parametrize("command", ["replay", "attach"])
def test_a_duplicate_name_opens_the_newest_and_says_how_to_pick_another(tmp_path, monkeypatch, capsys, command):
    import tui.replay

    older = write_synthetic_session(tmp_path, "same", epochs=1).folder
    newer = write_synthetic_session(tmp_path, "same", epochs=1).folder
    opened = []
    monkeypatch.setattr(tui.replay, "open_viewer", lambda ref, **kw: opened.append(ref) or OpenedViewer())
    parser = core_cli.build_parser(extra_modules=["tui.replay_cli"])  # as the `twb` entry point builds it

    assert core_cli.run_command(parser.parse_args([command, "same", "--dir", str(tmp_path)])) == 0
    err = capsys.readouterr().err
    assert opened[-1] == str(newer)
    assert f"2 sessions are named 'same'; using {newer.name}" in err and older.name in err

    assert core_cli.run_command(parser.parse_args([command, older.name, "--dir", str(tmp_path)])) == 0
    assert opened[-1] == str(older) and capsys.readouterr().err == ""
