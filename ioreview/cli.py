"""The `ioreview` command line.

Every command takes a global `--db PATH` (or the IOREVIEW_DB environment variable) and talks to
the service layer (`ioreview.service.Trial`) only.

Every command that reads or changes trial data acts as a logged-in user, with the same role
checks as the application: `--user NAME` (or IOREVIEW_USER) and the password typed at a prompt,
or read from the first line of `--password-file FILE` (`-` for standard input) for scripts;
never from the command line itself.  A database without any account belongs to whoever created
the file, so `import` into a new database and `demo` work without one; those commands run as
the workstation's operator (`Trial.system_session`, audited as `cli:<login>`), and `ioreview
admin init` creates the first administrator.  From then on every command needs credentials.
Files the command line creates (database, key, archive, exports) are readable by their owner
only (umask 077).

A mistake on the command line is one line on stderr naming what is wrong, and exit status 2;
a command that did not do what was asked (an import that imported nothing, an audit that
found problems) exits 1; a closed pipe (`ioreview users | head -1`) ends the output quietly.
"""
from __future__ import annotations

import argparse
import gc
import getpass
import importlib
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ioreview import __version__
from ioreview.paths import default_db_path

if TYPE_CHECKING:
    from ioreview.service import Session, Trial


class CliError(Exception):
    """A message for the terminal user; the command exits with status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line (the usage is one `--help` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


#: commands that only look: they never create a database
_LOOKING_COMMANDS = frozenset({"info", "audit", "backup"})
#: commands that open no database given by --db
_NO_DATABASE = frozenset({"render", "view", "demo"})


def _progress_bar(desc: str, enabled: bool) -> tuple[Callable[[int, int], None] | None,
                                                     Callable[[], None]]:
    """A tqdm bar on stderr driven by a plain progress(done, total) callable."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=desc, unit="file", file=sys.stderr,
                              dynamic_ncols=True, leave=False)
        b = bar["bar"]
        if b.total != total:
            b.total = total
        b.n = done
        b.refresh()

    def close() -> None:
        if "bar" in bar:
            bar["bar"].close()

    return progress, close


def _open_trial(args: argparse.Namespace) -> Trial:
    """The trial on --db (checked by `_check_db`).  What a crashed process left behind is put
    right, and said on stderr."""
    from ioreview.service import Trial

    trial = Trial.open(args.db, archive_root=args.archive or None)
    if trial.recovery.anything:
        print(f"ioreview: {trial.recovery.summary()}", file=sys.stderr)
    return trial


def _check_db(args: argparse.Namespace) -> None:
    """A SQLite --db is created when missing (never by `info` or `audit`), but a folder only
    for the default location: a --db in a folder that does not exist is a mistake."""
    from ioreview.store import is_postgres_url

    if args.command in _NO_DATABASE or is_postgres_url(args.db) or (
            args.command == "protocol" and args.action == "check"):
        return
    path = Path(args.db)
    if path.is_dir():
        raise CliError(_("--db {p} is a folder; give the path of a database file").format(p=path))
    if args.command in _LOOKING_COMMANDS and not path.exists():
        raise CliError(_("no database at {p}: nothing to {what} (import studies or run "
                         "`ioreview demo` first, or give --db)").format(
            p=path, what={"info": "show", "audit": "verify"}.get(args.command, "back up")))
    if not path.parent.is_dir():
        if args.db_given:
            raise CliError(_("the folder {d} does not exist: create it first (--db makes a "
                             "database file, never folders)").format(d=path.parent))
        path.parent.mkdir(parents=True, exist_ok=True)


def _os_login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - getuser raises various errors in odd environments
        return "operator"


def _read_secret_file(name: str) -> str:
    """The first line of `name` (`-`: standard input).  A file others can read is refused, as
    ssh refuses such a key: the password would not be a secret."""
    if name == "-":
        line = sys.stdin.readline()
        if not line:
            raise CliError(_("--password-file -: standard input is empty"))
        return line.rstrip("\r\n")
    path = Path(name)
    try:
        mode = path.stat().st_mode
        if os.name == "posix" and mode & 0o077:
            raise CliError(_("--password-file {p}: other users can read this file; make it "
                             "private first (chmod 600 {p})").format(p=path))
        with path.open(encoding="utf-8") as f:
            line = f.readline()
    except FileNotFoundError:
        raise CliError(_("--password-file {p}: no such file").format(p=path)) from None
    except IsADirectoryError:
        raise CliError(_("--password-file {p}: is a folder, not a file").format(p=path)) from None
    except UnicodeDecodeError:
        raise CliError(_("--password-file {p}: not a text file").format(p=path)) from None
    if not line.strip():
        raise CliError(_("--password-file {p}: the first line is empty").format(p=path))
    return line.rstrip("\r\n")


def _operator_password(args: argparse.Namespace) -> str:
    """The acting user's password: --password-file, else the terminal; never argv."""
    if args.password_file:
        return _read_secret_file(args.password_file)
    if getattr(args, "password_stdin", False) and args.command == "export":
        return _read_secret_file("-")  # the export's older spelling, kept for scripts
    if not sys.stdin.isatty():
        raise CliError(_("no terminal to ask {u}'s password on; give --password-file FILE "
                         "(or - for standard input)").format(u=args.user))
    return getpass.getpass(_("Password for {u}: ").format(u=args.user))


def _operator(trial: Trial, args: argparse.Namespace, *,
              allow_change_only: bool = False) -> Session:
    """The acting user's session: a log-in as --user once the trial has accounts; the
    workstation's operator (the file's owner) while it has none.  An account that must change
    its password first is told how (`allow_change_only`: the `password` command itself)."""
    if not trial.has_accounts():
        return trial.system_session(_os_login())
    if not args.user:
        raise CliError(_("this trial has user accounts: say who you are with --user NAME (or "
                         "IOREVIEW_USER); the password is asked on the terminal or read from "
                         "--password-file FILE"))
    from ioreview.auth import workstation_source

    args.password = _operator_password(args)
    session = trial.login(args.user, args.password, source=workstation_source())
    if getattr(session, "must_change_password", False) and not allow_change_only:
        raise CliError(_("{u} must choose a new password before anything else: ioreview --user "
                         "{u} password").format(u=args.user))
    return session


# -- commands -------------------------------------------------------------------------------------
def _have_display() -> bool:
    return not sys.platform.startswith("linux") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM"))


def _require_display() -> None:
    """Qt aborts the process without a display; say so plainly instead."""
    if not _have_display():
        raise CliError(_("no display to open the application on (DISPLAY is not set). Run it "
                         "on a desktop, or under a virtual one: xvfb-run -a ioreview ..."))


def cmd_import(args: argparse.Namespace) -> int:
    trial = _open_trial(args)
    session = _operator(trial, args)
    copy_to = None
    if args.copy is not None:
        copy_to = Path(args.copy) if args.copy else trial.archive_dir
    progress, close = _progress_bar("import", not args.json and sys.stderr.isatty())
    try:
        summary = trial.import_studies(session, [Path(p) for p in args.paths], copy_to=copy_to,
                                       progress=progress, checksum=args.checksum,
                                       archive_limits=not args.no_archive_limits)
    finally:
        close()
    data = summary.to_json_dict()
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(_("Imported {imported} of {seen} files in {secs:.1f} s "
                "({dups} duplicates, {rej} rejected).").format(
            imported=summary.imported, seen=summary.files_seen, secs=summary.elapsed_s,
            dups=len(summary.duplicates), rej=len(summary.rejected)))
        for r in summary.rejected[:50]:
            print(f"  rejected: {r.path}: {r.reason}")
        if len(summary.rejected) > 50:
            print(_("  ... and {n} more rejected files (use --json for the full list)").format(
                n=len(summary.rejected) - 50))
        if summary.warned:
            print(_("  {n} imported files drew warnings from the DICOM library (invalid values "
                    "or text); they are in the import log and in --json").format(
                n=len(summary.warned)))
        totals = data.get("totals", {})
        print(_("Database now holds {patient} patients, {study} studies, {series} series, "
                "{instance} instances.").format(**{k: totals.get(k, 0) for k in
                                                   ("patient", "study", "series", "instance")}))
    if summary.imported == 0 and not summary.duplicates:
        if not args.json:
            print(_("Nothing was imported."), file=sys.stderr)
        return 1
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    trial = _open_trial(args)
    info = {"database": trial.store.location,
            **trial.info(_operator(trial, args)).to_json_dict()}
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False, default=str))
    else:
        for key, value in info.items():
            if isinstance(value, dict):
                print(f"{key}:")
                for k, v in value.items():
                    print(f"  {k}: {v}")
            else:
                print(f"{key}: {value}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ioreview.demo import build_demo
    from ioreview.imaging.synthetic import DemoConfig

    out = Path(args.dir) if args.dir else Path(args.db).parent / "demo"
    gui = not args.no_gui and _have_display()
    if not args.no_gui and not gui:
        print(_("ioreview: no display (DISPLAY is not set): building the demo trial anyway; "
                "the command to open it follows at the end."), file=sys.stderr, flush=True)
    config = DemoConfig.small(seed=args.seed) if args.small else DemoConfig(seed=args.seed)
    if args.subjects:
        from dataclasses import replace

        config = replace(config, n_subjects=args.subjects)
    from ioreview.store import is_postgres_url

    database = args.db if is_postgres_url(args.db) else None
    progress, close = _progress_bar("demo", sys.stderr.isatty())
    try:
        result = build_demo(out, config, progress=progress, log=print, db=database)
    finally:
        close()

    print(_("Demo trial in {dir}: {n} DICOM files, database {db}").format(
        dir=out, n=result.n_files, db=result.db_location))
    print(_("Demo users (username / password):"))
    for user in result.users:
        print(f"  {user.username:<14} {user.password:<20} {user.role}")
    where = f"--db {result.db_location}"
    if result.archive_root:
        where += f" --archive {result.archive_root}"
    print(_("Open it with: ioreview {where} app   (without a display: xvfb-run -a ioreview "
            "{where} app)").format(where=where))
    print(_("On the command line, act as a user: ioreview {where} --user coordinator info "
            "(the password is asked)").format(where=where))
    if not gui:
        return 0
    from ioreview.ui.app import run_app

    return run_app(str(result.db), lang=args.lang, archive_root=result.archive_root)


def cmd_app(args: argparse.Namespace) -> int:
    _require_display()
    from ioreview.ui.app import run_app

    return run_app(str(args.db), lang=args.lang, archive_root=args.archive or None)


def cmd_view(args: argparse.Namespace) -> int:
    _require_display()
    from ioreview.ui.view_app import run_view

    return run_view([str(p) for p in args.paths])


def cmd_render(args: argparse.Namespace) -> int:
    """Frames count from 1, as the viewer shows them ("Im 1/20")."""
    from ioreview.imaging.decode import FrameOutOfRange, UnsupportedImage, failure_reason
    from ioreview.imaging.display import UnknownPreset, Window
    from ioreview.imaging.render import render_frame, save_png

    window = None
    if args.window:
        try:
            window = Window(args.window[0], args.window[1])
        except ValueError as exc:
            raise CliError(_("--window {c:g} {w:g}: the width must be at least 1").format(
                c=args.window[0], w=args.window[1])) from exc
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(_("--out {o}: the folder {d} does not exist").format(o=out, d=out.parent))
    try:
        image = render_frame(args.file, frame=args.frame - 1, window=window, preset=args.preset,
                             invert=True if args.invert else None)
    except FrameOutOfRange as exc:
        raise CliError(_("--frame {n}: {f} has {count} frame(s), numbered 1 to {count}").format(
            n=args.frame, f=args.file, count=exc.count)) from exc
    except UnknownPreset as exc:
        raise CliError(f"--preset {args.preset}: {exc}") from exc
    except UnsupportedImage as exc:
        raise CliError(f"{args.file}: {failure_reason(exc, args.file)}") from exc
    try:
        save_png(image, out)
    except OSError as exc:
        raise CliError(f"{out}: {exc.strerror or exc}") from exc
    print(_("Wrote {out} ({w}x{h})").format(out=args.out, w=image.shape[1], h=image.shape[0]))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    trial = _open_trial(args)
    session = _operator(trial, args)
    if args.action == "log":
        return _audit_log(trial, session, args)
    report = trial.verify_audit_trail(session, [Path(p) for p in args.anchor or ()])
    if not report.intact:
        first = report.first_broken
        if first is not None:
            where = _("audit record {n}").format(n=first.seq) if first.seq else _("the trail")
            print(_("FIRST PROBLEM at {where}: {p}").format(where=where, p=first))
        for problem in report.problems:
            print(problem)
        print(_("Audit trail NOT intact: {n} problem(s) in {r} records.").format(
            n=len(report.problems), r=report.n_records), file=sys.stderr)
        return 1
    print(_("Audit trail intact: {n} records, keyed chain (key {key}), {s} signatures, domain "
            "tables cross-checked, {a} anchor(s) outside the database matched; head "
            "{head}.").format(n=report.n_records, key=report.key_id[:12] or "-",
                              s=report.n_signatures, a=report.n_anchors,
                              head=report.head[:16]))
    return 0


def _audit_log(trial: Trial, session: Session, args: argparse.Namespace) -> int:
    """`audit log`: the records a filter selects, oldest first, as lines or a CSV file."""
    from ioreview.service.values import AuditLogFilter

    filters = AuditLogFilter(args.by, args.case, args.what, args.since, args.until)
    if args.csv:
        summary = trial.export_audit_csv(session, args.csv, filters)
        print(_("Wrote {n} audit records to {p} (sha256 {sha}).").format(
            n=summary.n_records, p=summary.path, sha=summary.sha256[:16]))
        return 0
    page = trial.audit_log(session, user=args.by, case=args.case, action=args.what,
                           since=args.since, until=args.until, limit=args.limit)
    for e in reversed(page.entries):
        after = "" if e.after is None else json.dumps(e.after, ensure_ascii=False,
                                                      sort_keys=True)
        print(f"{e.seq:>7}  {e.at_utc}  {e.actor:<16} {e.action:<20} {e.entity} "
              f"{e.entity_id}  {after}")
    if page.total > len(page.entries):
        print(_("({n} of {total} matching records: the newest; narrow the filter, raise "
                "--limit, or write them all with --csv FILE)").format(
            n=len(page.entries), total=page.total), file=sys.stderr)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    trial = _open_trial(args)
    summary = trial.backup(_operator(trial, args), args.dest)
    print(_("Backed up to {dir}: {n} files ({a} archive files), audit trail of {length} records "
            "(head {head}).").format(dir=summary.folder, n=summary.n_files,
                                     a=summary.n_archive_files, length=summary.audit_length,
                                     head=summary.audit_head[:16]))
    print(_("The trial key is not in the backup: keep a copy of {key} (key {kid}) apart from "
            "it; a restore needs both.").format(key=summary.key_path, kid=summary.key_id[:12]))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Verify a backup completely, then restore it into --db (which must be new or empty)."""
    from ioreview.service.backup import restore

    summary = restore(args.src, args.db, args.archive or None, key_file=args.key)
    print(_("Restored and verified: {db} ({length} audit records, {s} signatures), archive "
            "{archive} ({n} files).").format(db=summary.target, length=summary.audit_length,
                                              s=summary.n_signatures,
                                              archive=summary.archive_dir,
                                              n=summary.n_archive_files))
    return 0


def cmd_protocol(args: argparse.Namespace) -> int:
    from adjudication.protocol import InvalidProtocol, load_protocol

    if args.action == "check":
        try:
            protocol = load_protocol(args.file)
        except InvalidProtocol as exc:
            print(str(exc), file=sys.stderr)
            return 1
        except OSError as exc:
            raise CliError(f"{args.file}: {exc.strerror}") from exc
        print(_("{file}: valid protocol {id} {version} ({n} findings)").format(
            file=args.file, id=protocol.id, version=protocol.version, n=len(protocol.findings)))
        return 0
    trial = _open_trial(args)
    session = _operator(trial, args)
    if args.action == "install":
        try:
            info = trial.install_protocol(session, args.file)
        except InvalidProtocol as exc:
            print(str(exc), file=sys.stderr)
            return 1
        print(_("Installed protocol {id} {version} (version record {pk}, sha256 {sha})").format(
            id=info.protocol_id, version=info.version, pk=info.id, sha=info.sha256[:12]))
        return 0
    for info in trial.protocol_versions(session):
        mark = "*" if info.active else " "
        print(f"{mark} {info.id:>3}  {info.protocol_id} {info.version}  {info.installed_at}"
              f"  {info.sha256[:12]}")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    trial = _open_trial(args)
    session = _operator(trial, args)
    if args.action == "add":
        password = _new_password(args, args.username)
        user = trial.create_user(session, args.username, args.name or args.username, args.role,
                                 password, must_change_password=True)
        print(_("Created {u} ({role}); they choose their own password at the first log-in "
                "(ioreview --user {u} password, or the application).").format(
            u=user.username, role=user.role.value))
        return 0
    for user in trial.list_users(session):
        state = "active" if user.active else "inactive"
        print(f"{user.id:>3}  {user.username:<16} {user.role.value:<12}"
              f" {state:<8} {user.display_name}")
    return 0


def _new_password(args: argparse.Namespace, username: str) -> str:
    """A new account's password: the first line of standard input (--password-stdin), or typed
    twice on the terminal; never from argv."""
    if getattr(args, "password_stdin", False):
        if args.password_file == "-":
            raise CliError(_("--password-stdin and --password-file - both want standard input; "
                             "give your own password in a file"))
        line = sys.stdin.readline()
        if not line:
            raise CliError(_("--password-stdin: standard input is empty."))
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CliError(_("no terminal to ask the password on; use --password-stdin."))
    first = getpass.getpass(_("New password for {u}: ").format(u=username))
    if getpass.getpass(_("Type it again: ")) != first:
        raise CliError(_("the two passwords differ; nothing was changed"))
    return first


def cmd_admin(args: argparse.Namespace) -> int:
    """`admin init`: the first administrator of a database without accounts; `admin grants
    ROLE`: the PostgreSQL script that lets the workstations' role use the trial without being
    able to change audit records or signatures."""
    trial = _open_trial(args)
    if args.action == "grants":
        if not args.username:
            raise CliError(_("admin grants: name the PostgreSQL role the workstations log in as "
                             "(ioreview --db postgresql://... admin grants ROLE)"))
        print(trial.postgres_grants(_operator(trial, args), args.username))
        return 0
    if trial.has_accounts():
        raise CliError(_("this trial already has user accounts; an administrator adds more "
                         "with `ioreview --user ADMIN users add NAME --role ROLE`"))
    username = args.username or args.user
    if not username:
        if not sys.stdin.isatty():
            raise CliError(_("admin init: give the new administrator's user name "
                             "(ioreview admin init NAME)"))
        username = input(_("User name of the first administrator: ")).strip()
    name = args.name
    if not name:
        name = username if not sys.stdin.isatty() else (
            input(_("Printed name (shown on signatures) [{u}]: ").format(u=username)).strip()
            or username)
    password = _new_password(args, username)
    user = trial.accounts.create_first_admin(username, name, password)
    print(_("Created the first administrator {u}. From now on every command needs --user and "
            "a password.").format(u=user.username))
    return 0


def cmd_password(args: argparse.Namespace) -> int:
    """Change the acting user's own password (also what a forced change at the first log-in
    needs)."""
    trial = _open_trial(args)
    if not trial.has_accounts():
        raise CliError(_("this trial has no user accounts yet: `ioreview admin init` creates "
                         "the first administrator"))
    session = _operator(trial, args, allow_change_only=True)
    new = _new_password(args, args.user)
    trial.change_password(session, args.password, new)
    print(_("Password of {u} changed.").format(u=args.user))
    return 0


def _import_in_background(module: str) -> threading.Thread:
    """Import `module` on a thread: while this one waits for the database and the password's
    key derivation (both let go of the interpreter), the thread loads the code the command
    needs next.  An import error is raised again where the module is used."""
    def load() -> None:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - raised again, with its message, where it is used
            pass

    thread = threading.Thread(target=load, name=f"ioreview-import-{module}", daemon=True)
    thread.start()
    return thread


def cmd_export(args: argparse.Namespace) -> int:
    import ioreview.service  # noqa: F401 - before the thread, which imports below it

    if not args.report:
        return _export(args)
    # the report's worker loads its libraries while the trial opens
    from ioreview.service.exports.report_worker import discard_started_worker, start_worker

    start_worker()  # forks: before `_export` starts a thread
    try:
        return _export(args)
    finally:
        discard_started_worker()  # if the command failed before the export took the worker


def _export(args: argparse.Namespace) -> int:
    loading = _import_in_background("ioreview.service.exports.trial_export")
    trial = _open_trial(args)
    session = _operator(trial, args)
    loading.join()
    password = getattr(args, "password", None)
    if password is None:
        raise CliError(_("an export is signed: it needs a user account (ioreview admin init "
                         "creates the first one)"))
    progress, close = _progress_bar(_("export"), sys.stderr.isatty())
    try:
        summary = trial.export_trial(
            session, args.out, password, formats=args.format.split(","),
            include_sr=args.include_sr, include_images=args.include_images, report=args.report,
            identified=args.identified, language=args.lang, progress=progress)
    finally:
        close()
    print(_("Exported {n} files to {out} (export {id}, signed by {who}; audit head "
            "{head}).").format(n=len(summary.files) + 1, out=summary.out_dir,
                                id=summary.export_id, who=summary.signature.signer,
                                head=summary.audit_head[:16]))
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    trial = _open_trial(args)
    session = _operator(trial, args)
    if args.action == "build":
        created = trial.build_cases_from_studies(session)
        print(_("Built {n} new cases.").format(n=len(created)))
    for case in trial.list_cases(session):
        days = "" if case.days_from_insertion is None else f"{case.days_from_insertion:+d}"
        print(f"{case.label:<12} {case.subject:<24} {case.timepoint:<16} {days:>4}"
              f"  {case.n_series} series")
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    trial = _open_trial(args)
    summary = trial.generate_assignments(_operator(trial, args), seed=args.seed)
    print(_("Seed {seed}: {n} assignments ({r} hidden re-reads)").format(
        seed=summary.seed, n=summary.n_assignments, r=summary.n_rereads))
    for reader, n in summary.per_reader.items():
        print(f"  {reader}: {n}")
    return 0


def _(text: str) -> str:
    """Marks CLI text for translation (the GUI uses Qt's translator; the CLI prints English)."""
    return text


def _frame_number(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"frames are numbered from 1, not {n}")
    return n


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _preset(text: str) -> str:
    from ioreview.imaging.display import all_preset_keys, preset_key

    if preset_key(text) not in all_preset_keys():
        raise argparse.ArgumentTypeError(f"unknown preset {text!r}; choose one of "
                                         f"{', '.join(all_preset_keys())}")
    return text


def _who_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """--user and --password-file, accepted before the command and after it."""
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument("--user", metavar="NAME",
                        default=default if suppress else os.environ.get("IOREVIEW_USER"),
                        help="act as this user (default: $IOREVIEW_USER); the password is asked "
                             "on the terminal, or read with --password-file")
    parser.add_argument("--password-file", metavar="FILE", default=default,
                        help="read your password from the first line of FILE (private to you: "
                             "chmod 600), or from standard input with -; never give it on the "
                             "command line")


#: the account roles (ioreview.service.Role: the parser does not import the service, which
#: would cost every command ~1 s of start-up; tests/test_cli_auth.py checks they agree)
ROLES = ("reader", "adjudicator", "committee", "coordinator", "admin")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ioreview", allow_abbrev=False, description="Blinded imaging review and complication adjudication.",
        epilog="Once a trial has user accounts, every command that reads or changes it needs "
               "--user NAME and that user's password (asked, or --password-file).")
    parser.add_argument("--version", action="version", version=f"ioreview {__version__}")
    parser.add_argument("--db", default=None,
                        help="database: a SQLite file, or a postgresql://user@host:port/name URL "
                             "(default: $IOREVIEW_DB or a file in the user data directory)")
    parser.add_argument("--archive", default=os.environ.get("IOREVIEW_ARCHIVE"),
                        metavar="DIR",
                        help="folder of the case-file archive (default: $IOREVIEW_ARCHIVE, or "
                             "'archive' beside a SQLite file; required with PostgreSQL)")
    _who_options(parser, suppress=False)
    who = argparse.ArgumentParser(add_help=False)
    _who_options(who, suppress=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, *, trial_data: bool = True) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, allow_abbrev=False, description=help_text[:1].upper()
                              + help_text[1:] + ".", parents=[who] if trial_data else [])

    p = command("import", "index DICOM files, folders, .zip archives, DICOMDIRs")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="DICOM files, folders (searched recursively), .zip files or DICOMDIRs")
    p.add_argument("--copy", nargs="?", const="", default=None, metavar="ARCHIVE",
                   help="copy files into a managed archive (default: next to the database)")
    p.add_argument("--checksum", action="store_true",
                   help="record a SHA-256 of files indexed in place (always done with --copy)")
    p.add_argument("--json", action="store_true",
                   help="print a machine-readable summary instead of text")
    p.add_argument("--no-archive-limits", action="store_true",
                   help="extract zip members however large they expand (by default a member "
                        "over 2 GiB or 200 times its compressed size is refused)")
    p.set_defaults(func=cmd_import)

    p = command("info", "what the database holds")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_info)

    p = command("demo", "generate a demo trial, import it and start the app", trial_data=False)
    p.add_argument("--dir", help="output folder (images + DIR/ioreview.sqlite; default: 'demo' "
                                 "beside --db)")
    p.add_argument("--seed", type=int, default=2026,
                   help="seed of the generated images and reads (default 2026)")
    p.add_argument("--subjects", type=int, default=0, help="number of subjects (default 12)")
    p.add_argument("--small", action="store_true", help="a tiny demo (for quick checks)")
    p.add_argument("--no-gui", action="store_true", help="stop after building")
    p.add_argument("--lang", help="user-interface language, e.g. zh_CN")
    p.set_defaults(func=cmd_demo)

    p = command("app", "start the application on --db (log in there)", trial_data=False)
    p.add_argument("--lang", help="user-interface language, e.g. zh_CN")
    p.set_defaults(func=cmd_app)

    p = command("view", "open DICOM files or folders in the viewer (no trial)", trial_data=False)
    p.add_argument("paths", nargs="+", metavar="PATH", help="DICOM files or folders to show")
    p.set_defaults(func=cmd_view)

    p = command("render", "render one frame to PNG exactly as the viewer shows it",
                trial_data=False)
    p.add_argument("file", help="a DICOM file")
    p.add_argument("--frame", type=_frame_number, default=1,
                   help="frame number, from 1 as the viewer counts (default 1)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--window", nargs=2, metavar=("CENTER", "WIDTH"), type=_finite,
                   help="window centre and width in the image's output units (e.g. HU)")
    g.add_argument("--preset", type=_preset,
                   help="a window preset by name, e.g. brain, bone, lung, soft_tissue for CT "
                        "(a name the image lacks lists those it has)")
    p.add_argument("--invert", action="store_true", help="show white as black")
    p.add_argument("--out", required=True, metavar="PNG", help="the PNG file to write")
    p.set_defaults(func=cmd_render)

    p = command("protocol", "check, install or list read protocols")
    p.add_argument("action", choices=["check", "install", "list"],
                   help="check a file (no database needed), install it as the active "
                        "version, or list installed versions (* = active)")
    p.add_argument("file", nargs="?", help="protocol TOML file (check/install)")
    p.set_defaults(func=cmd_protocol)

    p = command("users", "list or add user accounts (administrators and coordinators)")
    p.add_argument("action", choices=["list", "add"], nargs="?", default="list",
                   help="list accounts (default), or add one")
    p.add_argument("username", nargs="?", help="the new account's user name (add)")
    p.add_argument("--role", choices=ROLES, default="reader",
                   help="the new account's role (default reader)")
    p.add_argument("--name", help="printed name, shown on signatures (default: the user name)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the new account's initial password from the first line of "
                        "standard input (otherwise it is asked twice on the terminal)")
    p.set_defaults(func=cmd_users)

    p = command("admin", "set up a new trial's first administrator")
    p.add_argument("action", choices=["init", "grants"],
                   help="init: create the first administrator of a database without accounts "
                        "(asked interactively); grants: print the SQL that gives a PostgreSQL "
                        "role what the workstations need, without UPDATE or DELETE on the audit "
                        "trail and signatures (run it as the database owner)")
    p.add_argument("username", nargs="?", metavar="NAME",
                   help="init: the administrator's user name (asked when omitted); grants: the "
                        "PostgreSQL role")
    p.add_argument("--name", help="printed name, shown on signatures")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the new password from the first line of standard input "
                        "(otherwise it is asked twice on the terminal)")
    p.set_defaults(func=cmd_admin)

    p = command("password", "change your own password (--user NAME; the current one is asked "
                            "or read from --password-file)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the NEW password from the first line of standard input "
                        "(otherwise it is asked twice on the terminal)")
    p.set_defaults(func=cmd_password)

    p = command("cases", "list cases, or build them from imported studies")
    p.add_argument("action", choices=["list", "build"], nargs="?", default="list",
                   help="list cases (default), or build cases (subject x timepoint) from the "
                        "imported studies first")
    p.set_defaults(func=cmd_cases)

    p = command("assign", "assign cases to readers (seeded order, hidden re-reads)")
    p.add_argument("--seed", type=int, help="randomization seed (recorded; random if omitted)")
    p.set_defaults(func=cmd_assign)

    p = command("audit", "verify the audit trail (keyed chain, signatures, cross-checks, "
                         "anchors), or list its records")
    p.add_argument("action", choices=["verify", "log"], nargs="?", default="verify",
                   help="verify (default): walk the chain and name the first broken record "
                        "(exit 1 when anything is wrong); log: list records")
    p.add_argument("--anchor", action="append", metavar="MANIFEST",
                   help="verify: also compare with the audit head recorded in this export or "
                        "backup manifest.json (repeatable)")
    p.add_argument("--by", metavar="USER", help="log: records of this user name only")
    p.add_argument("--case", metavar="LABEL",
                   help="log: records of this case (its reads, signatures, adjudication...)")
    p.add_argument("--what", metavar="ACTION", help="log: records of this action only, e.g. sign")
    p.add_argument("--since", metavar="DATE", help="log: from this date or ISO time (local)")
    p.add_argument("--until", metavar="DATE", help="log: up to this date or ISO time (local)")
    p.add_argument("--limit", type=int, default=200,
                   help="log: at most this many of the newest matching records (default 200)")
    p.add_argument("--csv", metavar="FILE",
                   help="log: write every matching record to this CSV file instead (audited)")
    p.set_defaults(func=cmd_audit)

    p = command("backup", "back the trial up into a new folder (database snapshot, archive, "
                          "verified manifest; the key is kept apart)")
    p.add_argument("dest", metavar="DEST", help="a new folder for the backup")
    p.set_defaults(func=cmd_backup)

    p = command("restore", "verify a backup (manifest, keyed chain, signatures, archive hashes) "
                           "and restore it into --db, which must be new or empty",
                trial_data=False)
    p.add_argument("src", metavar="SRC", help="the backup folder")
    p.add_argument("--key", metavar="FILE",
                   help="the trial key file (default: where the backup's manifest says the key "
                        "was kept)")
    p.set_defaults(func=cmd_restore)

    p = command("export", "export tidy tables, codebook, SDTM-style results, DICOM SR and a "
                          "report into a new folder (a signed record)")
    p.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    p.add_argument("--format", default="csv", metavar="LIST",
                   help="table formats, any of csv,parquet,json (default csv)")
    p.add_argument("--include-sr", action="store_true",
                   help="a DICOM SR (TID 1500) per signed read version and per final outcome")
    p.add_argument("--include-images", action="store_true",
                   help="with --include-sr: de-identified copies of the referenced images")
    p.add_argument("--report", action="store_true", help="the HTML and PDF report")
    p.add_argument("--identified", action="store_true",
                   help="keep original identifiers (coordinator or admin; audited)")
    p.add_argument("--lang", default="en", choices=("en", "zh_CN"),
                   help="language of the report")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the signing user's password from standard input (the same as "
                        "--password-file -)")
    p.set_defaults(func=cmd_export)
    return parser


#: exit status after the reader of our output went away (128 + SIGPIPE, as the shell reports)
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a.startswith("--pass") and a.split("=", 1)[0] not in ("--password-file",
                                                                  "--password-stdin")
           for a in argv):
        parser.error("passwords are never taken from the command line (other users can see "
                     "it): type it at the prompt, or use --password-file FILE")
    args = parser.parse_args(argv)
    if getattr(args, "action", None) in ("check", "install") and not args.file:
        parser.error("protocol check/install needs a FILE")
    if getattr(args, "action", None) == "add" and not args.username:
        parser.error("users add needs a USERNAME")
    env_db = os.environ.get("IOREVIEW_DB")
    args.db_given = args.db is not None or bool(env_db)
    if args.db is None:
        args.db = env_db or str(default_db_path())
    from ioreview.errors import IoreviewError
    from ioreview.store import StoreError

    os.umask(0o077)  # database, key, archive and exports: readable by their owner only
    try:
        _check_db(args)
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:
        # the reader went away (`| head`): stop quietly; silence the final flush too
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    except (CliError, IoreviewError, StoreError) as exc:
        print(f"ioreview: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"ioreview: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_("ioreview: interrupted; everything committed so far is kept."), file=sys.stderr)
        return 130


def run() -> NoReturn:
    """The `ioreview` command: `main`, then exit without the interpreter's last garbage
    collection walking every object the command loaded (`gc.freeze`; ~1 s after an export)."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
