"""The application's answers to the engine's hooks: collaborators, assignment, followers.

The engine calls :class:`~engine.runtime.CaseHooks` inside its unit of work; these
answers need both the rules (who may see what) and mail (notices, replies to customers),
so they live here, above both, and only :func:`casework.compose.build_app` builds them.

- The creator of a case and its assignee become collaborators.
- ``[assignment] cases`` assigns a new case to a member of a group; ``[assignment]
  tasks`` claims each ready task for one of its candidates.
- Users who auto-follow a case type follow new cases they may read; followers are
  notified of new cases and posts, and only of what they may read (internal posts
  never reach portal users), in the app and by mail as each follower prefers
  (``rules.notifications``: each, digest or none).
- An agent's public post is mailed to the case's customers (``mail.replies``).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from casework.answers import answered_by
from engine.run.cases import case_data
from engine.runtime import CaseHooks, CaseInfo, SlaNotice, UnitOfWork
from engine.sla import clocks as sla_clocks
from engine.store.access import (
    AutoFollow,
    CaseCollaborator,
    CaseFollower,
    Notification,
    PortalMembership,
)
from engine.store.fast import Prepared, prepared_insert
from engine.store.models import (
    Case,
    Group,
    HumanTask,
    Membership,
    StreamPost,
    TaskCandidate,
    User,
)
from mail.outbox import queue_notice
from mail.replies import queue_case_reply
from mail.settings import MailSettings
from people.directory import group_by_name
from rules import assignment, notice_hours
from rules.checks import can
from rules.notifications import mail_preference
from rules.public import customer_fields, customer_side, staff_name, version_of
from rules.subject import load_subject

_ADD_COLLABORATORS = prepared_insert(CaseCollaborator.__table__, ["case_id", "user_id"])
_ANY_FOLLOWER = (
    select(CaseFollower.user_id).where(CaseFollower.case_id == bindparam("case_id")).limit(1)
)
_PORTAL_USER = Prepared(
    select(PortalMembership.user_id).where(PortalMembership.user_id == bindparam("uid"))
)
_AUTO_FOLLOWERS = Prepared(
    select(AutoFollow.user_id).where(AutoFollow.case_type_id == bindparam("type_id"))
)


class AppHooks(CaseHooks):
    """Plugged into the engine's runtime by :func:`casework.compose.build_app`."""

    def __init__(self, mail: MailSettings) -> None:
        self.mail = mail

    def sla_due(self, work: UnitOfWork, case: CaseInfo, notice: SlaNotice) -> None:
        """Tell the escalation groups (and, for a warning, the assignee) by mail; one notice
        per recipient, queued in this transaction and never twice (dedupe key)."""
        row = work.session.get(Case, case.id)
        assert row is not None
        groups = case.version.config.groups_for_role("escalation")
        people = list(
            work.session.scalars(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .join(Group, Group.id == Membership.group_id)
                .where(Group.name.in_(groups), User.is_active.is_(True), User.email.is_not(None))
            )
        )
        kind = "breach" if notice.threshold >= 1.0 else "warning"
        if kind == "warning" and row.assignee_id is not None:
            assignee = work.session.get(User, row.assignee_id)
            if assignee is not None and assignee.email:
                people.append(assignee)
        # a notice names the case: only to those the decision lets see it; each is held
        # until the end of that person's quiet hours (rules.notice_hours)
        recipients = {
            u.email: notice_hours.send_after(work, u, notice)
            for u in people
            if u.email and can(work, load_subject(work, u), "summary", row)
        }
        context = {
            "case_number": row.number,
            "case_subject": row.subject,
            "case_url": f"{self.mail.base_url}/cases/{row.number}",
            "target": notice.target,
            "threshold": notice.threshold,
            "due_at": notice.due_at,
            "time_zone": notice.time_zone,
        }
        for email in sorted(recipients):
            queue_notice(
                work.session,
                case_id=row.id,
                kind=kind,
                recipients=[email],
                sender=self.mail.sender,
                context=context,
                domain=self.mail.domain,
                dedupe_key=f"{kind}:case={row.id}:timer={notice.target}:"
                f"threshold={notice.threshold}:cycle={notice.cycle}:to={email}",
                now=work.now,
                send_after=recipients[email],
                overrides=case.version.config.mail_templates,
                token=f"case{row.id:08d}",
            )

    def case_opened(self, work: UnitOfWork, case: CaseInfo, actor_id: int | None) -> None:
        collaborators = {case.raiser_id} - {None}
        rule = case.version.config.assignment.get("cases")
        if rule:
            group = group_by_name(work, rule["group"])
            chosen = assignment.pick(
                work,
                rule["rule"],
                assignment.members_of(work, group.name),
                case_type_id=case.case_type_id,
                group_id=group.id,
                kind="cases",
            )
            if chosen is not None:
                work.session.execute(
                    update(Case).where(Case.id == case.id).values(assignee_id=chosen)
                )
                collaborators.add(chosen)
                assignment.record(
                    work,
                    case_id=case.id,
                    entity="case",
                    entity_id=case.id,
                    rule=rule["rule"],
                    user_id=chosen,
                )
        if collaborators:  # a new case has none yet: plain inserts
            _ADD_COLLABORATORS.execute_many(
                work.session, [{"case_id": case.id, "user_id": u} for u in collaborators]
            )
        following: set[int] = set()
        if case.raiser_id is not None and _PORTAL_USER.first(work.session, {"uid": case.raiser_id}):
            # seed 000: portal users follow the cases they create (what they hear of is
            # still decided per post, see _notify)
            work.session.add(CaseFollower(case_id=case.id, user_id=case.raiser_id))
            following.add(case.raiser_id)
        followers = [
            user_id
            for (user_id,) in _AUTO_FOLLOWERS.rows(work.session, {"type_id": case.case_type_id})
            if user_id not in following
        ]
        if not followers:
            return
        row = work.session.get(Case, case.id)
        assert row is not None
        for user_id in followers:
            if self._may(work, user_id, "read", row):
                work.session.add(CaseFollower(case_id=case.id, user_id=user_id))
        work.session.flush()
        self._notify(work, row, "case_opened", None, "read", skip=actor_id)

    def tasks_ready(self, work: UnitOfWork, case: CaseInfo, task_ids: list[int]) -> None:
        rule = case.version.config.assignment.get("tasks")
        if not rule:
            return
        for task_id in task_ids:
            group_id = work.session.scalar(
                select(TaskCandidate.group_id)
                .where(TaskCandidate.task_id == task_id, TaskCandidate.kind == "group")
                .limit(1)
            )
            people = assignment.candidates_for_task(work, task_id)
            chosen = (
                assignment.pick(
                    work,
                    rule,
                    people,
                    case_type_id=case.case_type_id,
                    group_id=group_id or 0,
                    kind="tasks",
                )
                if group_id
                else (people[0] if people else None)
            )
            if chosen is None:
                continue
            work.session.execute(
                update(HumanTask)
                .where(HumanTask.id == task_id, HumanTask.claimed_by_id.is_(None))
                .values(claimed_by_id=chosen, row_version=HumanTask.row_version + 1)
            )
            assignment.record(
                work, case_id=case.id, entity="task", entity_id=task_id, rule=rule, user_id=chosen
            )

    def post_added(self, work: UnitOfWork, case_id: int, post_id: int, internal: bool) -> None:
        self._answer_customer(work, case_id, post_id, internal)
        mailed = queue_case_reply(
            work, case_id, post_id, internal, self.mail.domain, default_sender=self.mail.sender
        )
        self._notify_followers(work, case_id, post_id, internal, mailed)

    @staticmethod
    def _answer_customer(work: UnitOfWork, case_id: int, post_id: int, internal: bool) -> None:
        """A public post by someone who works the case answers the customer: it meets first
        response and restarts the next-update clock.  A public post by the customer ends a
        wait on the customer: the clocks run again (:func:`casework.answers.answered_by`)."""
        if internal:
            return
        case = work.session.get(Case, case_id)
        post = work.session.get(StreamPost, post_id)
        if case is None or post is None:
            return
        side = answered_by(work, case, post.author_id)
        if side == "customer":
            sla_clocks.customer_answered(work, case_id, actor_id=post.author_id)
        elif side == "agent":
            sla_clocks.responded(work, case_id)

    def _notify_followers(
        self, work: UnitOfWork, case_id: int, post_id: int, internal: bool, mailed: set[str]
    ) -> None:
        """Followers hear of a post they may read, except its author; an address the
        customer answer went to already gets no second mail of it."""
        if work.session.scalar(_ANY_FOLLOWER, {"case_id": case_id}) is None:
            return
        case = work.session.get(Case, case_id)
        post = work.session.get(StreamPost, post_id)
        assert case is not None and post is not None
        action = "read_internal" if internal else "read"
        self._notify(work, case, "post_added", post_id, action, skip=post.author_id, mailed=mailed)

    def _notify(
        self,
        work: UnitOfWork,
        case: Case,
        kind: str,
        post_id: int | None,
        action: str,
        skip: int | None,
        mailed: set[str] | None = None,
    ) -> None:
        """A notification row per follower the decision lets see it, and a mail when they
        have an address (queued in this transaction; never twice for the same event).
        Customers get the customer view: the portal link, the case type's public fields,
        and the staff name instead of an agent's."""
        base: dict[str, object] = {"case_number": case.number, "case_subject": case.subject}
        post = work.session.get(StreamPost, post_id) if post_id is not None else None
        author = work.session.get(User, post.author_id) if post and post.author_id else None
        version = version_of(work, case)
        for user_id in work.session.scalars(
            select(CaseFollower.user_id).where(CaseFollower.case_id == case.id)
        ):
            user = work.session.get(User, user_id)
            if user_id == skip or user is None:
                continue
            subject = load_subject(work, user)
            if not can(work, subject, action, case):
                continue
            customer = subject.portal is not None
            context = {
                **base,
                "case_url": f"{self.mail.base_url}{'/portal' if customer else ''}"
                f"/cases/{case.number}",
                "fields": customer_fields(version, case_data(work, case)) if customer else [],
            }
            if post is not None:
                name = author.display_name or author.username if author else "Casework"
                if customer and author and not customer_side(work, {author.id}):
                    name = staff_name(version)
                context.update(author=name, body=post.body[:2000], internal=post.internal)
            # mailed now ("each"), later in a digest, or never ("none"): sent_at marks it
            # settled for mail (rules.notifications.MAIL_CHOICES)
            preference = mail_preference(work, user_id)
            work.session.add(
                Notification(
                    user_id=user_id,
                    case_id=case.id,
                    kind=kind,
                    post_id=post_id,
                    created_at=work.now,
                    sent_at=None if preference == "digest" else work.now,
                )
            )
            if preference != "each":
                continue
            if user.email and user.email.strip().lower() not in (mailed or set()):
                queue_notice(
                    work.session,
                    case_id=case.id,
                    kind=kind,
                    recipients=[user.email],
                    sender=self.mail.sender,
                    context=context,
                    domain=self.mail.domain,
                    dedupe_key=f"{kind}:case={case.id}:post={post_id}:to={user.email}",
                    now=work.now,
                    token=f"case{case.id:08d}",
                )

    @staticmethod
    def _may(work: UnitOfWork, user_id: int, action: str, case: Case) -> bool:
        user = work.session.get(User, user_id)
        return user is not None and can(work, load_subject(work, user), action, case)
