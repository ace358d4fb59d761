"""Files on posts and canned replies from the command line: ``case post --attach`` (and
its short form ``post add``), ``attachment get``, ``canned add/list/show/edit/remove/render``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.errors import InvalidInput
from engine.run.attachments import NewFile
from people.directory import user_by_name
from rules import canned_replies, case_acts, load_subject

from .context import add_as, row_id, runtime
from .output import done, emit


def add_attach_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="FILE",
        help="a file to attach (repeat for several); its type is read from its bytes",
    )


def read_files(paths: list[str]) -> list[NewFile]:
    """The files named by ``--attach``; one that cannot be read is named (exit 6)."""
    files = []
    for name in paths:
        try:
            files.append(NewFile(Path(name).name, Path(name).read_bytes()))
        except OSError as exc:
            raise InvalidInput("cannot attach", {name: exc.strerror or str(exc)}) from None
    return files


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    post = commands.add_parser("post", help="add a post (with files) to a case's stream")
    actions = post.add_subparsers(dest="action", required=True)
    p = actions.add_parser("add", help="the same as case post")
    p.add_argument("number")
    p.add_argument("--body", required=True)
    p.add_argument("--internal", action="store_true", help="visible to agents only")
    add_attach_option(p)
    add_as(p)
    p.set_defaults(handler=cmd_post_add)

    files = commands.add_parser("attachment", help="download a file of a post").add_subparsers(
        dest="action", required=True
    )
    p = files.add_parser("get", help="save a file of a post you may read")
    p.add_argument("attachment_id", type=row_id)
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="where to save it (- for stdout)"
    )
    add_as(p)
    p.set_defaults(handler=cmd_attachment_get)

    canned = commands.add_parser(
        "canned", help="canned replies of your groups, with template variables"
    ).add_subparsers(dest="action", required=True)
    p = canned.add_parser("list", help="the canned replies you may insert")
    p.add_argument("--group")
    add_as(p)
    p.set_defaults(handler=cmd_canned_list)
    p = canned.add_parser("show")
    p.add_argument("reply_id", type=row_id)
    add_as(p)
    p.set_defaults(handler=cmd_canned_show)
    p = canned.add_parser(
        "add",
        help="a new canned reply of a group (its leads, administrators); variables: "
        + ", ".join(canned_replies.VARIABLES),
    )
    p.add_argument("--group", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--body", required=True, help="the text, e.g. 'Hello {{ customer_name }}'")
    add_as(p)
    p.set_defaults(handler=cmd_canned_add)
    p = canned.add_parser("edit", help="change a canned reply's name or text")
    p.add_argument("reply_id", type=row_id)
    p.add_argument("--name")
    p.add_argument("--body")
    add_as(p)
    p.set_defaults(handler=cmd_canned_edit)
    p = canned.add_parser("remove")
    p.add_argument("reply_id", type=row_id)
    add_as(p)
    p.set_defaults(handler=cmd_canned_remove)
    p = canned.add_parser("render", help="a canned reply filled in for a case")
    p.add_argument("reply_id", type=row_id)
    p.add_argument("--case", required=True, metavar="NUMBER")
    add_as(p)
    p.set_defaults(handler=cmd_canned_render)


def cmd_post_add(args: argparse.Namespace) -> int:
    files = read_files(args.attach)
    with runtime(args) as rt, rt.unit() as work:
        author = user_by_name(work, args.as_user)
        post = case_acts.add_post(
            work,
            load_subject(work, author),
            author,
            args.number,
            args.body,
            args.internal,
            files=files,
        )
        ids = [a["id"] for a in case_acts.attachments_of_post(work, post.id)]
    done(
        f"posted to {args.number}"
        + (" (internal)" if args.internal else "")
        + "".join(f"\nattachment {i}: {f.filename}" for i, f in zip(ids, files, strict=True)),
        as_json=args.json,
        id=post.id,
        case=args.number,
        internal=post.internal,
        attachments=ids,
    )
    return 0


def cmd_attachment_get(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        row, data = case_acts.read_attachment(work, load_subject(work, user), args.attachment_id)
        facts = {"id": row.id, "filename": row.filename, "content_type": row.content_type}
    if args.output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    try:
        Path(args.output).write_bytes(data)
    except OSError as exc:
        raise InvalidInput("cannot save", {args.output: exc.strerror or str(exc)}) from None
    done(
        f"saved {row.filename} ({len(data):,} bytes, {row.content_type}) to {args.output}",
        as_json=args.json,
        size=len(data),
        output=args.output,
        **facts,
    )
    return 0


def cmd_canned_list(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        rows = canned_replies.list_replies(work, load_subject(work, user), args.group)
    emit(rows, as_json=args.json, table=["id", "group", "name", "body"])
    return 0


def cmd_canned_show(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        reply = canned_replies.show_reply(work, load_subject(work, user), args.reply_id)
    emit(reply, as_json=args.json)
    return 0


def cmd_canned_add(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        reply = canned_replies.add_reply(
            work, load_subject(work, user), group=args.group, name=args.name, body=args.body
        )
    done(f"canned reply {reply['id']} added to {reply['group']}", as_json=args.json, **reply)
    return 0


def cmd_canned_edit(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        reply = canned_replies.update_reply(
            work, load_subject(work, user), args.reply_id, name=args.name, body=args.body
        )
    done(f"canned reply {reply['id']} changed", as_json=args.json, **reply)
    return 0


def cmd_canned_remove(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        canned_replies.remove_reply(work, load_subject(work, user), args.reply_id)
    done(f"canned reply {args.reply_id} removed", as_json=args.json, id=args.reply_id)
    return 0


def cmd_canned_render(args: argparse.Namespace) -> int:
    with runtime(args) as rt, rt.unit() as work:
        user = user_by_name(work, args.as_user)
        text = canned_replies.render_reply(
            work, load_subject(work, user), user, args.reply_id, args.case
        )
    if args.json:
        emit({"id": args.reply_id, "case": args.case, "text": text}, as_json=True)
    else:
        print(text)
    return 0
