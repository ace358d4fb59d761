"""Finding the user behind a credential: the user comes back as the session's own object
(changes to it are saved, never inserted twice), and a dead credential finds nobody."""

from __future__ import annotations

from engine.runtime import Runtime
from engine.store.models import User
from people import directory, logins, tokens


def _alice(runtime: Runtime) -> tuple[str, str]:
    with runtime.unit() as work:
        alice = directory.add_user(work, username="alice", password="pw for alice")
        _, secret = tokens.issue_token(work, user=alice, name="script")
        cookie = logins.start_session(work, alice).token
    return secret, cookie


def test_the_user_of_a_credential_is_the_sessions_own_and_changes_to_it_are_saved(
    runtime: Runtime,
):
    secret, cookie = _alice(runtime)
    with runtime.unit() as work:
        use = tokens.token_user(work, secret)
        assert use is not None and use.user.username == "alice"
        user = use.user
        assert work.session.get(User, user.id) is user  # one object per row, as ever
        found = logins.session_user(work, cookie)
        assert found is not None and found[0] is user
        user.display_name = "Alice Agent"
    with runtime.unit() as work:
        assert work.session.get(User, user.id).display_name == "Alice Agent"
        assert len(directory.list_users(work)) == 1


def test_a_revoked_token_or_an_inactive_user_finds_nobody(runtime: Runtime):
    secret, cookie = _alice(runtime)
    with runtime.unit() as work:
        alice = directory.user_by_name(work, "alice")
        (token,) = tokens.token_rows(work, user_id=alice.id)
        assert tokens.revoke_token(work, actor=alice, token_id=token["id"]) == [token["id"]]
    with runtime.unit() as work:
        assert tokens.token_user(work, secret) is None
        assert logins.session_user(work, cookie) is not None
        directory.user_by_name(work, "alice").is_active = False
    with runtime.unit() as work:
        assert logins.session_user(work, cookie) is None
