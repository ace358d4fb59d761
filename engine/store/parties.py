"""Who a case is about beyond its main contact: its account and its lead.

A case has at most one account and at most one lead (one ``case_parties`` row, keyed by
the case); its contacts are the main contact on the case row and ``case_contacts``.  Kept
beside the ``cases`` table rather than in it, so linking an account or a lead never
touches the case's row and its workflow state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class Lead(Base):
    """A prospective contact: someone who is not a customer (yet)."""

    __tablename__ = "leads"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    company: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="new")
    created_at: Mapped[datetime]

    # a lead is found again by its address, case-insensitively (one lead per address)
    __table_args__ = (Index("ix_leads_email_lower", func.lower(email), unique=True),)


class CaseParty(Base):
    """The account and the lead of one case (either may be empty)."""

    __tablename__ = "case_parties"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
