"""``qlocks search`` core (run_search): table and --json carry the same data; query errors exit 2."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from bot.config import ConfigError
from bot.qumulo.errors import QumuloAuthError
from bot.search import run_search
from tests.locks.conftest import truth


def env_for(sim: Any, **extra: str) -> dict[str, str]:
    return {
        "QUMULO_HOST": f"http://{sim.host}",
        "QUMULO_PORT": str(sim.port),
        "QUMULO_ACCESS_TOKEN": sim.admin_token,
        "QLOCKS_CLUSTER_NAME": "lab",
        **extra,
    }


def run(text: str, env: dict[str, str], *, as_json: bool) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_search(text, as_json=as_json, env=env, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_table_and_json_show_the_same_handles(sim_ro: Any) -> None:
    real = truth(sim_ro)
    path = sorted(t.path for t in real.values() if t.path.startswith("/finance/"))[0]
    code, text, _ = run(path, env_for(sim_ro), as_json=False)
    assert code == 0
    code, raw, _ = run(path, env_for(sim_ro), as_json=True)
    assert code == 0
    data = json.loads(raw)
    assert data["exact"] is True and data["cluster"] == "lab" and data["total_files"] == 1
    [f] = data["files"]
    expected = {loc for loc, t in real.items() if t.path == path}
    assert {h["location"] for h in f["handles"]} == expected and data["total_handles"] == len(expected)
    assert f["path"] in text and f["share"] == "Finance"
    for h in f["handles"]:
        assert h["location"] in text and h["holder"] in text
    assert f"{len(expected)} handle(s) on 1 file(s)" in text


def test_no_matches_and_no_such_file(sim_ro: Any) -> None:
    code, text, _ = run("zzz-nothing-like-this", env_for(sim_ro), as_json=False)
    assert code == 0 and "No open handle" in text and "Try a shorter part" in text
    code, text, _ = run("\\\\lab\\Finance\\missing.xlsx", env_for(sim_ro), as_json=False)
    assert code == 0 and "does not exist" in text and "/finance/missing.xlsx" in text
    assert '"missing.xlsx"' in text  # what to try instead
    code, raw, _ = run("/finance/missing.xlsx", env_for(sim_ro), as_json=True)
    assert json.loads(raw)["no_such_file"] is True


def test_bad_query_exits_2_with_the_reason(sim_ro: Any) -> None:
    code, out, err = run("ip:999.1.1.1", env_for(sim_ro), as_json=False)
    assert code == 2 and out == "" and "not an IP address" in err


def test_configuration_and_auth_errors_propagate(sim_ro: Any) -> None:
    with pytest.raises(ConfigError):
        run("xlsx", {}, as_json=False)
    with pytest.raises(QumuloAuthError):
        run("xlsx", env_for(sim_ro, QUMULO_ACCESS_TOKEN="access-v1:wrong"), as_json=False)


def test_the_command_line_searches_for_the_text_as_typed(sim: Any) -> None:
    """``qlocks search 'R&amp;D'`` looks for those eight characters: only Slack escapes ``&``, ``<`` and ``>``."""
    sim.state.add_handle("/finance/zq-R&D plan.xlsx", user="dana")
    sim.state.add_handle("/finance/zq-R&amp;D notes.xlsx", user="dana")
    code, raw, _ = run("zq-R&amp;D", env_for(sim), as_json=True)
    data = json.loads(raw)
    assert code == 0 and data["query"]["value"] == data["query"]["text"] == "zq-R&amp;D"
    assert [f["path"] for f in data["files"]] == ["/finance/zq-R&amp;D notes.xlsx"]
    code, raw, _ = run("<smb://lab/Finance/x.xlsx>", env_for(sim), as_json=True)  # no Slack link markup here
    assert code == 0 and json.loads(raw)["query"]["kind"] == "fragment"


def _unc(sim: Any, path: str, cluster: str) -> str:
    share = sim.state.share_for(path)
    root = next(s["fs_path"] for s in sim.state.shares if s["share_name"] == share).rstrip("/")
    return f"\\\\{cluster}\\{share}" + path[len(root) :].replace("/", "\\")


@pytest.mark.parametrize("by_acl", [False, True], ids=["privilege-needed", "acl-allows"])
@pytest.mark.parametrize("form", ["path", "unc"])
def test_exact_path_search_needs_fs_attributes_read(
    sim: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, by_acl: bool, form: str
) -> None:
    """#12 item 1: ``GET /v1/files/{ref}/info/attributes`` needs PRIVILEGE_FS_ATTRIBUTES_READ unless the files'
    ACLs let the API user read; the cluster's refusal does not name it, qlocks does."""
    from bot import cli
    from bot.qumulo.models import OPTIONAL_PRIVILEGES, REQUIRED_PRIVILEGES

    sim.state.attributes_by_file_access = by_acl
    path = "/finance/zz-exact.xlsx"
    loc = sim.state.add_handle(path, user="dana", client_ip="10.0.0.7")
    privileges = [
        p for p in [*REQUIRED_PRIVILEGES, *OPTIONAL_PRIVILEGES] if p != "PRIVILEGE_FS_ATTRIBUTES_READ"
    ]
    env = env_for(sim, QUMULO_ACCESS_TOKEN=sim.mint_token("no-attrs", privileges))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir("/")
    query = path if form == "path" else _unc(sim, path, "lab")
    code = cli.main(["search", query, "--json"])
    out, err = capsys.readouterr()
    if by_acl:
        assert code == 0, err
        assert loc in out
    else:
        assert code == 1 and out == ""
        assert err == (
            "qlocks: The Qumulo API user lacks PRIVILEGE_FS_ATTRIBUTES_READ (look up a full path or "
            "\\\\cluster\\share path (exact-path searches)): add it to the bot's role\n"
        )
