"""``run.py case message``, ``run.py message`` and ``run.py signal`` as an agent uses them:
one line and a documented exit code when a message reaches no waiting case."""

from __future__ import annotations

import pytest

from tests.cli.test_run import Cli
from tests.conftest import PROCESSES

pytestmark = pytest.mark.integration
EXAMPLES = PROCESSES / "examples"


@pytest.fixture
def cli(db_url: str, tmp_path) -> Cli:
    cli = Cli(db_url, tmp_path)
    cli("demo")  # the directory: alice and bob at the service desk, sam a specialist
    for name in ("order", "question", "goods_return"):
        cli("deploy", str(EXAMPLES / f"{name}.bpmn"))
    return cli


def test_an_agent_delivers_messages_and_is_told_when_none_is_awaited(cli: Cli):
    opened = cli.json(
        "case",
        "open",
        "--type",
        "ORDER",
        "--subject",
        "Chairs",
        "--data",
        '{"order_id": "4711"}',
        "--as",
        "alice",
    )
    number = opened["number"]
    early = cli("case", "message", number, "payment_received", "--as", "alice", ok=False)
    assert early.returncode == 5
    assert early.stderr.strip() == (
        f"error: case {number} does not wait for message 'payment_received'; it waits for "
        "message 'customer_update' at 'Customer update'"
    )
    task = next(t for t in cli.json("task", "list", "--as", "alice") if t["case"] == number)
    cli("task", "complete", str(task["id"]), "--as", "alice")
    out = cli("message", "payment_received", "--type", "ORDER", "--key", "4711", "--as", "alice")
    assert out.stdout.strip() == (
        f"message 'payment_received' delivered to {number} at 'Wait for payment'; case open"
    )
    hidden = cli("case", "message", number, "goods_shipped", "--as", "sam", ok=False)
    assert (hidden.returncode, hidden.stderr.strip()) == (3, f"error: no case {number}")
    shipped = cli.json("case", "message", number, "goods_shipped", "--as", "alice")
    assert shipped["caught"] == ["Goods shipped"]
    nobody = cli(
        "message", "goods_shipped", "--type", "ORDER", "--key", "1", "--as", "alice", ok=False
    )
    assert nobody.returncode == 3


def test_a_message_start_event_opens_a_case_and_a_signal_reaches_waiting_cases(cli: Cli):
    opened = cli.json(
        "message",
        "return_requested",
        "--type",
        "RETURN",
        "--subject",
        "Broken chair",
        "--data",
        '{"order": "4711"}',
        "--as",
        "alice",
    )
    assert opened["caught"] == ["Return requested"]
    numbers = []
    for _ in range(2):
        number = cli.json(
            "case", "open", "--type", "QUESTION", "--subject", "Why?", "--as", "alice"
        )["number"]
        task = next(t for t in cli.json("task", "list", "--as", "alice") if t["case"] == number)
        cli("task", "complete", str(task["id"]), "--as", "alice")
        numbers.append(number)
    out = cli("signal", "outage_over", "--type", "QUESTION", "--as", "alice")
    assert out.stdout.splitlines() == [f"{n}: signal 'outage_over' caught" for n in numbers]
    again = cli("signal", "outage_over", "--type", "QUESTION", "--as", "alice", ok=False)
    assert again.returncode == 5


def test_the_worker_opens_a_timer_start_events_case_once(db_url: str, tmp_path):
    cli = Cli(db_url, tmp_path)
    cli("demo")
    once = tmp_path / "weekly_check.bpmn"
    once.write_text(
        (EXAMPLES / "weekly_check.bpmn")
        .read_text()
        .replace("timeCycle", "timeDuration")
        .replace("0 9 * * MON", "PT0S")  # once, as soon as it is deployed
    )
    (tmp_path / "weekly_check.toml").write_text((EXAMPLES / "weekly_check.toml").read_text())
    cli("deploy", str(once))
    first = cli.json("worker", "--once")
    assert first["cases_advanced"] == 1
    assert cli.json("worker", "--once")["cases_advanced"] == 0
    [case] = cli.json("case", "list", "--type", "WEEKLY", "--as", "alice")
    assert case["subject"].startswith("Every Monday 09:00 ")
