"""``casework.check_iban``: is an IBAN well formed (ISO 13616 check digits)?

A pure check, so it never fails for reasons a retry could fix; a payout case type
calls it before a person approves the payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.definitions.connectors import Connector

#: Lengths by country for the countries a typical European payout deals with.
_LENGTHS = {"AT": 20, "BE": 16, "CH": 21, "DE": 22, "ES": 24, "FR": 27, "GB": 22, "IT": 27,
            "NL": 18, "PL": 28}  # fmt: skip


@dataclass(frozen=True)
class IbanInput:
    iban: str


def check_iban(given: IbanInput) -> dict[str, Any]:
    """``iban_valid`` and the IBAN as it is printed (groups of four)."""
    compact = given.iban.replace(" ", "").upper()
    country = compact[:2]
    valid = (
        compact.isalnum()
        and len(compact) == _LENGTHS.get(country, len(compact))
        and 15 <= len(compact) <= 34
        and country.isalpha()
        and int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4])) % 97 == 1
    )
    printed = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return {"iban_valid": valid, "iban": printed if valid else given.iban}


CHECK_IBAN = Connector(inputs=IbanInput, call=check_iban)
