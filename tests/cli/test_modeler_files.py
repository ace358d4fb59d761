"""Processes drawn in Camunda Modeler by others (the shared corpus) run end to end through
``run.py``: deployed with the TOML a designer writes first, opened by hand or by their
message start event, and moved on by the messages they wait for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.test_run import Cli

pytestmark = pytest.mark.integration

#: corpus file -> (case-type key, process id)
FILES = {
    "camunda-bpm-examples/message_start_process.bpmn": ("MSGSTART", "Message_Start_Process"),
    "spiffworkflow/event-gateway.bpmn": ("EVGW", "Process_0pvx19v"),
    "spiffworkflow/collaboration.bpmn": ("BUDDY", "process_buddy"),
    "miwg/reference/C.9.1.bpmn": ("DOCREQ", "requestDocument_en"),
}


def test_modeler_files_that_wait_for_messages_run_end_to_end(
    db_url: str, tmp_path: Path, corpus: Path
):
    cli = Cli(db_url, tmp_path)
    cli("demo")
    for name, (key, process) in FILES.items():
        bpmn = tmp_path / Path(name).name
        shutil.copy(corpus / "bpmn" / name, bpmn)
        bpmn.with_suffix(".toml").write_text(
            f'[case_type]\nkey = "{key}"\nname = "{key}"\nprefix = "{key}"\n'
            f'process = "{process}"\n\n[roles]\nmanager = ["service-desk"]\n'
        )
        assert f"{key}: deployed version 1" in cli("deploy", str(bpmn)).stdout

    started = cli.json("message", "instantiationMessage", "--type", "MSGSTART", "--as", "alice")
    assert (started["caught"], started["case_status"]) == (["StartEvent_1"], "open")
    [task] = [t for t in cli.json("task", "list", "--as", "alice") if t["case"] == started["case"]]
    assert task["name"] == "Wait in Message Process"
    cli("task", "complete", str(task["id"]), "--as", "alice")

    def opened(key: str) -> str:
        return cli.json("case", "open", "--type", key, "--subject", key, "--as", "alice")["number"]

    gateway = opened("EVGW")
    assert cli.json("case", "message", gateway, "message_2", "--as", "alice")["case_status"] == (
        "closed"
    )
    buddy = opened("BUDDY")
    lacking = cli("case", "message", buddy, "Love Letter Response", "--as", "alice", ok=False)
    assert lacking.returncode == 6
    assert "the process correlates on 'from_name'" in lacking.stderr
    answer = cli.json(
        "case", "message", buddy, "Love Letter Response", "--data", '{"from_name": "Bob"}',
        "--as", "alice",
    )  # fmt: skip
    assert (answer["caught"], answer["case_status"]) == (["receive Letter"], "closed")
    document = opened("DOCREQ")
    got = cli.json("case", "message", document, "MESSAGE_documentReceived", "--as", "alice")
    assert (got["caught"], got["case_status"]) == (["Wait for answer"], "closed")
    statuses = {c["number"]: c["status"] for c in cli.json("case", "list", "--as", "alice")}
    assert [statuses[n] for n in (started["case"], gateway, buddy, document)] == ["closed"] * 4
