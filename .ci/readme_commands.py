"""Print the commands of the README's first ``sh`` block, one per line.

CI runs exactly these, so the README cannot drift from what is tested.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def first_block(text: str) -> list[str]:
    match = re.search(r"```sh\n(.*?)```", text, re.S)
    if match is None:
        raise SystemExit("ci: the README has no ```sh block")
    return [line for line in match.group(1).splitlines() if line.strip()]


if __name__ == "__main__":
    print("\n".join(first_block(Path(sys.argv[1]).read_text(encoding="utf-8"))))
