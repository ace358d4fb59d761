"""SQLAlchemy 2 models: the whole persistent state of Casework.

One module on purpose: the tables are few, reference each other heavily, and a
newcomer should see the data model on one screen.  Service functions elsewhere in
the engine read and write these rows; nothing outside ``engine`` imports them
except through the engine's public functions and read models.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # SQLAlchemy types __table__ as any FromClause (a class may be mapped to a join);
        # every model here declares its own table, so Core inserts and updates take it.
        __table__: ClassVar[Table]

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads it as a class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


# --- directory: agents, groups, customers -------------------------------------------------


class User(Base):
    """Anyone who logs in: agents, admins and portal customers alike."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    # mail intake finds senders by address, case-insensitively
    __table_args__ = (Index("ix_users_email_lower", func.lower(email)),)


class Group(Base):
    """A named set of users; case-type roles and task candidates point at groups."""

    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]


class Membership(Base):
    """User ∈ group.  Joined at query time, never copied into task rows.  ``role``: the
    member's role in the group, ``member`` or ``lead`` (a lead also manages what the group
    shares, such as its canned replies)."""

    __tablename__ = "memberships"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20), default="member", server_default="member")
    created_at: Mapped[datetime]


class CustomerGroup(Base):
    """A customer organisation; ``parent_id`` builds the customer hierarchy."""

    __tablename__ = "customer_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("customer_groups.id"))


class Account(Base):
    """A customer company or household inside a customer group; ``parent_id`` names its
    parent account, whose portal contacts may view its cases (seed 003)."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    customer_group_id: Mapped[int] = mapped_column(ForeignKey("customer_groups.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)


class Contact(Base):
    """A person on the customer side; ``user_id`` links a portal login."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    customer_group_id: Mapped[int] = mapped_column(ForeignKey("customer_groups.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    __table_args__ = (Index("ix_contacts_email_lower", func.lower(email)),)


# --- case types -----------------------------------------------------------------------------


class CaseType(Base):
    """A kind of case (``SUPPORT``); its behaviour lives in versions."""

    __tablename__ = "case_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(20))
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_type_versions.id", use_alter=True)
    )
    created_at: Mapped[datetime]


class CaseTypeVersion(Base):
    """One deployed BPMN + configuration, identified by the hash of both.

    The parsed spec is stored once here (``spec_json``) and cached in memory per
    version; case rows store only their workflow state.
    """

    __tablename__ = "case_type_versions"
    __table_args__ = (
        UniqueConstraint("case_type_id", "content_hash"),
        UniqueConstraint("case_type_id", "number", name="uq_case_type_versions_number"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_type_id: Mapped[int] = mapped_column(ForeignKey("case_types.id"))
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    process_id: Mapped[str] = mapped_column(String(200))
    source_name: Mapped[str] = mapped_column(String(500))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    config: Mapped[dict[str, Any]]
    spec_json: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime]
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# --- cases and their tasks ----------------------------------------------------------------


class Case(Base):
    """A case (ticket): one BPMN process instance plus what people see of it."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_type_status", "case_type_id", "status"),
        # the open cases of every type, for work lists that mix types (few of many rows)
        Index("ix_cases_status", "status", "id"),
        # (column, id): lists of one person's cases are read from the index alone
        Index("ix_cases_raiser_id", "raiser_id", "id"),
        Index("ix_cases_main_contact_id", "main_contact_id", "id"),
        Index("ix_cases_correlation", "case_type_id", "correlation_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    subject: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="open")
    case_type_id: Mapped[int] = mapped_column(ForeignKey("case_types.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("case_type_versions.id"))
    customer_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_groups.id"), index=True
    )
    main_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    raiser_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    priority: Mapped[str] = mapped_column(String(20), default="normal")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    #: what a closed case ended with ("solved", "cancelled", ...); cleared when it reopens
    outcome: Mapped[str | None] = mapped_column(String(200))
    workflow_state: Mapped[str] = mapped_column(Text)
    next_timer_due: Mapped[datetime | None] = mapped_column(index=True)
    #: ``|message:name|signal:name|``: what the workflow waits for (engine/run/messages.py)
    waits_for: Mapped[str | None] = mapped_column(String(1000))
    #: the value of the case type's correlation property, to route messages to the case
    correlation_key: Mapped[str | None] = mapped_column(String(200))
    #: Bumped by every change; writers update ``WHERE row_version = <what they read>``.
    row_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


WAITING_SQL = "state = 'waiting'"  # the condition of the index on waiting timers
FAILED_SQL = "state = 'failed'"  # the condition of the index on failed timers (few rows)


class Timer(Base):
    """A timer a case waits on: a BPMN timer event or an SLA target threshold.

    One row per (case, source, name, threshold, cycle): that identity is what fires
    exactly once, however many workers sweep.  The sweep reads only rows that are due.
    """

    __tablename__ = "timers"
    __table_args__ = (
        # leads with case_id, so it also serves every per-case lookup
        UniqueConstraint("case_id", "source", "name", "threshold", "cycle"),
        # only waiting rows: settling a timer leaves the index instead of moving within it
        Index(
            "ix_timers_waiting_due",
            "due_at",
            sqlite_where=text(WAITING_SQL),
            postgresql_where=text(WAITING_SQL),
        ),
        # what ``jobs failed`` and ``/metrics`` read: only the rows given up on
        Index(
            "ix_timers_failed",
            "id",
            sqlite_where=text(FAILED_SQL),
            postgresql_where=text(FAILED_SQL),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(10))  # bpmn | sla | connector
    name: Mapped[str] = mapped_column(String(250))
    threshold: Mapped[float] = mapped_column(default=1.0)
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    #: waiting | fired | cancelled | met (SLA) | failed (given up) | discarded (by an operator)
    state: Mapped[str] = mapped_column(String(10), default="waiting")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    fired_at: Mapped[datetime | None]
    #: Why the last attempt failed (one line), kept when the timer is given up on.
    last_error: Mapped[str | None] = mapped_column(Text)


#: "This timer is waiting", spelled exactly as the partial index's condition.  A bound
#: parameter in its place works only while the planner sees its value: a plan PostgreSQL
#: builds for any value (a prepared statement run often) could not use the index.
TIMER_IS_WAITING = Timer.__table__.c.state == literal_column("'waiting'")
#: "This timer was given up on", spelled as the condition of the index on failed timers.
TIMER_HAS_FAILED = Timer.__table__.c.state == literal_column("'failed'")


class CaseContact(Base):
    """Additional contacts of a case (the main contact is on the case row)."""

    __tablename__ = "case_contacts"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class HumanTask(Base):
    """A user task an agent can claim and complete; mirrors a READY engine task."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        UniqueConstraint("case_id", "engine_task_id"),
        Index("ix_human_tasks_state_case", "state", "case_id"),
        # a task is claimed only for a while: unclaimed rows stay out of this index
        Index(
            "ix_human_tasks_claimed_by_id",
            "claimed_by_id",
            sqlite_where=text("claimed_by_id IS NOT NULL"),
            postgresql_where=text("claimed_by_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    engine_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    lane: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(50))
    state: Mapped[str] = mapped_column(String(20), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    delegated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    row_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class TaskCandidate(Base):
    """Who may act on a task, resolved when asked, never copied.

    ``kind`` is ``group`` (members of ``group_id`` at that moment), ``user``
    (``user_id``), ``member`` (``user_id`` while a member of ``group_id``: one instance
    of a per-member multi-instance task) or ``owner`` (the case's raiser and its portal
    contacts).
    """

    __tablename__ = "task_candidates"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("human_tasks.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # Most rows name a group or a user (``member`` rows both): indexing only the rows that
    # name one keeps every insert from writing an index entry for its empty column.
    __table_args__ = (
        Index(
            "ix_task_candidates_group_id",
            "group_id",
            sqlite_where=text("group_id IS NOT NULL"),
            postgresql_where=text("group_id IS NOT NULL"),
        ),
        Index(
            "ix_task_candidates_user_id",
            "user_id",
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
    )


class StreamPost(Base):
    """A message in a case's stream; ``internal`` posts never reach customers."""

    __tablename__ = "stream_posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class PostAttachment(Base):
    """A file that came with a post (a mail's attachment, an upload): whoever may read the
    post may download it, nobody else.  The bytes live in the file store under ``sha256``;
    ``content`` holds only those of rows stored before the file store existed."""

    __tablename__ = "post_attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("stream_posts.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class CannedReply(Base):
    """A reply text a group's agents insert into their answers; a Jinja2 template over the
    case (``{{ case.key }}``, ``{{ customer.name }}``, ``{{ agent.name }}``, ...)."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("group_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AuditEntry(Base):
    """Append-only record of every change (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(index=True)
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
