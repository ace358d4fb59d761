"""Every BPMN file of the shared corpus deploys or is refused precisely, never with a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.definitions.compiler import compile_definition
from engine.definitions.config import CaseTypeConfig
from engine.errors import DefinitionError

pytestmark = pytest.mark.integration


def _config_for(data: bytes) -> CaseTypeConfig:
    """Map every lane of the file to the manager role, as a designer's first TOML would."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        lanes = {lane.get("name") for lane in root.iter("{*}lane") if lane.get("name")}
    except etree.XMLSyntaxError:
        lanes = set()
    return CaseTypeConfig(
        key="CORPUS",
        name="Corpus",
        prefix="X",
        lanes={name: "manager" for name in lanes},
        roles={"manager": ["agents"]},
        source="corpus.toml",
    )


def test_it_deploys_or_precisely_refuses_every_corpus_file(corpus: Path):
    files = sorted(
        p
        for p in (corpus / "bpmn").rglob("*")
        if p.is_file() and (p.suffix == ".bpmn" or p.name.endswith(".bpmn20.xml"))
    )
    assert len(files) >= 60, "the corpus looks incomplete"
    deployed, refused, vague = [], [], []
    for path in files:
        data = path.read_bytes()
        try:
            compile_definition(data, _config_for(data), source=str(path))
            deployed.append(path)
        except DefinitionError as exc:
            errors = [p for p in exc.problems if p.severity == "error"]
            refused.append(path)
            for problem in errors:
                located = problem.line or problem.element
                if problem.file != str(path) or not located or not problem.message:
                    vague.append(str(problem))
        # Any other exception propagates and fails the test: that is the point.
    assert not vague, "refusals without file and element or line:\n" + "\n".join(vague)
    assert deployed, "no corpus file deployed at all"
    print(f"\ncorpus: {len(deployed)} deploy, {len(refused)} refused precisely, of {len(files)}")
