"""Tables behind the permission rules (evaluated by the ``rules`` package).

System permissions are granted to groups: read/write per case type, read per
customer group, read per resource type.  Portal users get a portal role.  A case can
be restricted (then only its grants and admins count), hidden from the portal,
have collaborators and followers, links to related cases and linked items.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class PortalRole(Base):
    """What a customer sees in the portal (own cases or all of their customer's), may edit,
    and which case types they may open (seed: "Permission to create Cases can be granted in
    a Portal Role")."""

    __tablename__ = "portal_roles"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    view_level: Mapped[str] = mapped_column(String(10), default="own")  # own | all
    edit_level: Mapped[str] = mapped_column(String(10), default="own")  # own | all
    parent_visibility: Mapped[bool] = mapped_column(Boolean, default=False)
    case_types: Mapped[list[str]] = mapped_column(JSON, default=list)  # keys customers open


class PortalMembership(Base):
    """A user acting in the portal under a role (a user has at most one)."""

    __tablename__ = "portal_memberships"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    portal_role_id: Mapped[int] = mapped_column(ForeignKey("portal_roles.id"))


class CaseTypePermission(Base):
    """A group's level on one case type, or on all when NULL: ``read``, ``write``, or ``no``.

    ``no`` grants nothing; it records that the group's roles give no access to the type,
    which is what keeps a collaborator out (a collaborator reads a case unless their roles'
    level for its type is "no").  The highest level of any of a user's groups counts.
    """

    __tablename__ = "case_type_permissions"
    __table_args__ = (UniqueConstraint("group_id", "case_type_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    case_type_id: Mapped[int | None] = mapped_column(ForeignKey("case_types.id"))
    level: Mapped[str] = mapped_column(String(10), default="read")  # no | read | write


class CustomerPermission(Base):
    """A group may read cases and contacts of one customer group, or of all when NULL."""

    __tablename__ = "customer_permissions"
    __table_args__ = (UniqueConstraint("group_id", "customer_group_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    customer_group_id: Mapped[int | None] = mapped_column(ForeignKey("customer_groups.id"))


class ResourcePermission(Base):
    """A group may read resources of one resource type."""

    __tablename__ = "resource_permissions"
    __table_args__ = (UniqueConstraint("group_id", "resource_type"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    resource_type: Mapped[str] = mapped_column(String(100))


class CaseAccess(Base):
    """Per-case access settings, one row per case that has any."""

    __tablename__ = "case_access"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_from_portal: Mapped[bool] = mapped_column(Boolean, default=False)
    restricted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    restricted_at: Mapped[datetime | None]


class CaseGrant(Base):
    """Who may see a restricted case: a user or a group, ``read`` or ``full``."""

    __tablename__ = "case_grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    level: Mapped[str] = mapped_column(String(10), default="read")  # read | full


class CaseCollaborator(Base):
    """Read and stream access for a user, if their roles grant any access to the case type."""

    __tablename__ = "case_collaborators"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CaseFollower(Base):
    """Notified of new posts on a case (visibility still decides what they get)."""

    __tablename__ = "case_followers"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AutoFollow(Base):
    """A user follows every new case of a case type they may see."""

    __tablename__ = "auto_follows"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    case_type_id: Mapped[int] = mapped_column(ForeignKey("case_types.id"), primary_key=True)


class CaseLink(Base):
    """A relation between two cases, stored once per direction; ``kind`` is how this case
    relates to the other (``engine.run.case_links.KINDS``: ``duplicate-of`` here is
    ``duplicated-by`` there)."""

    __tablename__ = "case_links"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    other_case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="related", server_default="related")


class Item(Base):
    """Something linked to cases: a resource, or a child record (a mail, a call, a note, an
    attachment, a to-do) with its own access list (:class:`ItemGrant`), see
    ``engine.run.child_records``."""

    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # resource | mail | call | note | ...
    name: Mapped[str] = mapped_column(String(300))
    resource_type: Mapped[str | None] = mapped_column(String(100))
    checked_out_to: Mapped[str | None] = mapped_column(String(200))  # another organisation
    #: what the record stands for elsewhere: an attachment's id or file name, a mail's id
    ref: Mapped[str | None] = mapped_column(String(300))
    #: only its own grants (never propagated ones) and administrators see it (seed 004)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime | None]


class CaseItem(Base):
    __tablename__ = "case_items"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ItemGrant(Base):
    """A child record's access list: a user or a group may see it.  ``propagated`` rows
    come from the case's assignee and teams (the case type's ``[children]`` switch) and
    follow them; the others were shared by hand."""

    __tablename__ = "item_grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    propagated: Mapped[bool] = mapped_column(Boolean, default=False)


class TodoAttachment(Base):
    """Another child record attached to a to-do (a child record of kind ``todo``)."""

    __tablename__ = "todo_attachments"
    todo_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AssignmentCursor(Base):
    """Where round-robin assignment stopped last, per case type, group and kind of work."""

    __tablename__ = "assignment_cursors"
    case_type_id: Mapped[int] = mapped_column(ForeignKey("case_types.id"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # cases | tasks
    last_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Notification(Base):
    """Something a user should be told about: listed in the app until read, mailed as the
    user's :class:`NotificationPreference` says (``sent_at``: settled for mail, whether
    mailed on its own, in a digest, or not at all)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # case_opened | post_added
    post_id: Mapped[int | None] = mapped_column(ForeignKey("stream_posts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]


class NotificationPreference(Base):
    """How a user wants notifications mailed: ``each`` (a mail per notification, the
    default when a user has no row), ``digest`` (one mail listing them, sent by
    ``run.py notifications digest`` or the worker) or ``none`` (in the app only)."""

    __tablename__ = "notification_preferences"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    mail: Mapped[str] = mapped_column(String(10), default="each")  # each | digest | none
    updated_at: Mapped[datetime]


class View(Base):
    """A named case list: case types x scopes (open, closed, ...) plus field filters."""

    __tablename__ = "views"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    case_types: Mapped[list[str]] = mapped_column(JSON, default=list)  # keys; empty = all
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)  # statuses; empty = all
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ViewGroup(Base):
    """A view is offered to the members of these groups (its roles)."""

    __tablename__ = "view_groups"
    view_id: Mapped[int] = mapped_column(
        ForeignKey("views.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class PersonalView(Base):
    """An inbox filter and sort one user saved under a name of their own; it narrows the
    work list like the filter links do and never widens what they may see."""

    __tablename__ = "personal_views"
    __table_args__ = (UniqueConstraint("user_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # show, sort, dir and the role view (by name) of the inbox link
    params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
