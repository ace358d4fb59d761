"""Count the test results of a JUnit file and refuse skips that are not allowed.

Every real part is required in CI, so a skip means a path went untested.  The few skips
that are part of a test's design are listed, each with its reason, in
``.ci/allowed-skips.txt`` (one ``<test id regex> -- <reason>`` per line).
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def allowed_patterns(path: Path) -> list[re.Pattern[str]]:
    patterns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(re.compile(line.split(" -- ", 1)[0].strip()))
    return patterns


def main(junit: Path, allow_list: Path) -> int:
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    refused: list[str] = []
    allowed = allowed_patterns(allow_list)
    for case in ET.parse(junit).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None:
            counts["failed"] += 1
        elif case.find("error") is not None:
            counts["errors"] += 1
        elif (skip := case.find("skipped")) is not None:
            counts["skipped"] += 1
            if not any(p.search(test_id) for p in allowed):
                refused.append(f"{test_id}: {skip.get('message', '')}")
        else:
            counts["passed"] += 1
    print("ci: tests " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    for line in refused:
        print(f"ci: skip not on the allow-list: {line}", file=sys.stderr)
    return 1 if refused or counts["failed"] or counts["errors"] else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
