"""Every BPMN file of the shared corpus deploys or is refused precisely, never with a traceback."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine.definitions.file_outcomes import corpus_files, triage

pytestmark = pytest.mark.integration


def test_it_deploys_or_precisely_refuses_every_corpus_file(corpus: Path):
    files = corpus_files(corpus / "bpmn")
    assert len(files) >= 60, "the corpus looks incomplete"
    outcomes = [triage(path) for path in files]
    crashed = [f"{o.path}: {o.message}" for o in outcomes if o.status == "traceback"]
    vague = [f"{o.path}: {o.message}" for o in outcomes if o.status == "vague"]
    assert not crashed, "tracebacks:\n" + "\n".join(crashed)
    assert not vague, "refusals without a line or element:\n" + "\n".join(vague)
    by_status = Counter(o.status for o in outcomes)
    assert by_status["deploys"] >= 10 and by_status["view-only"] >= 20, by_status
    print(f"\ncorpus of {len(files)}: {dict(by_status)}")


def test_a_corpus_service_task_without_implementation_is_refused_saying_how_to_declare_it(
    corpus: Path,
):
    outcome = triage(corpus / "bpmn" / "miwg" / "reference" / "C.8.1.bpmn")
    assert outcome.status == "refused"
    assert outcome.message.startswith(f"{outcome.path}:201:9: error: _2b960d84-")
    assert "service task 'Fetch Vacation Information' has no implementation" in outcome.message
    assert "[manual_steps] in draft.toml" in outcome.message


def test_a_corpus_service_task_naming_a_connector_not_installed_deploys(corpus: Path):
    # Camunda runs it through a Java delegate; here a case reaching it stops with an incident
    outcome = triage(corpus / "bpmn" / "camunda-bpm-examples" / "loan-granting.bpmn")
    assert (outcome.status, outcome.errors) == ("deploys", 0)
