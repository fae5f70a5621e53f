"""The `keerpunt` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from datetime import date
from pathlib import Path

from keerpunt.base.config import EXIT_CONFIG, Config, ConfigError, check_secret_files, load_config
from keerpunt.base.logfilter import ScrubIdentifiers

DEFAULT_CONFIG = "keerpunt.yaml"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day(value: str) -> date:
    """A YYYY-MM-DD date (only that form: ``date.fromisoformat`` would also take 20260301)."""
    try:
        if DAY.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-03-01")


def _languages(value: str) -> tuple[str, ...]:
    """``nl,en,pl`` as a tuple of the languages Keerpunt has; anything else is refused."""
    from keerpunt.site.content import LANGUAGES

    found = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [part for part in found if part not in LANGUAGES]
    if not found or unknown:
        shown = ", ".join(unknown) or "nothing"
        raise argparse.ArgumentTypeError(f"unknown language {shown}; use some of {', '.join(LANGUAGES)}")
    return found


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keerpunt", description="Keerpunt help platform")
    parser.add_argument(
        "--config",
        help=f"path to keerpunt.yaml (default: ./{DEFAULT_CONFIG} if it exists, else the shipped example)",
    )
    parser.add_argument("--data-dir", help="data directory (overrides data_dir from the config)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create secrets and render Synapse's configuration into the data dir")
    dev = sub.add_parser("dev", help="run Synapse, the bots and the portal locally (the embedded default)")
    dev.add_argument(
        "--workers",
        action="store_true",
        help="Synapse as a main process plus workers on PostgreSQL and Redis, routed by Debian's caddy",
    )
    caddy = sub.add_parser("caddyfile", help="print Caddy's config, rendered from the routing table")
    caddy.add_argument(
        "--local", action="store_true", help="the loopback router of `keerpunt dev --workers` instead of production"
    )
    key = sub.add_parser(
        "backup-key", help="make the keys of this platform's backups: an identity to keep apart, a key to sign with"
    )
    key.add_argument("file", type=Path, help="where to write the identity (never overwritten)")
    back = sub.add_parser("backup", help="back up both databases and the key material, encrypted and signed")
    back.add_argument("dir", type=Path, help="an empty or new folder")
    back.add_argument(
        "--recipient",
        default=os.environ.get("KEERPUNT_BACKUP_RECIPIENT", ""),
        help="the age public key (age1…) from `keerpunt backup-key`; default: $KEERPUNT_BACKUP_RECIPIENT",
    )
    back.add_argument(
        "--signing-key",
        type=Path,
        default=os.environ.get("KEERPUNT_BACKUP_SIGNING_KEY", ""),
        help="the signing key from `keerpunt backup-key`; default: $KEERPUNT_BACKUP_SIGNING_KEY",
    )
    rest = sub.add_parser("restore", help="restore a backup into empty databases and the data directory")
    rest.add_argument("dir", type=Path, help="the backup folder")
    rest.add_argument("--identity", type=Path, required=True, help="the identity file from `keerpunt backup-key`")
    run = sub.add_parser("run", help="run one production process")
    run.add_argument("process", choices=["bots", "portal"])
    staff = sub.add_parser("staff", help="manage staff accounts")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser("add", help="create a staff account; prints its login and a one-time password once")
    add.add_argument("shown_as", help="the name visitors and partners see: a first name or a pseudonym")
    add.add_argument("--role", required=True, choices=["counsellor", "outreach", "partner"])
    add.add_argument("--partner", help="partner id from the partner directory (role partner only)")
    add.add_argument(
        "--organisation",
        help="the organisation an outreach worker works for (e.g. Spine), shown on cards and to visitors",
    )
    add.add_argument("--login", help="the account's login (default: the role and a random suffix; no real names)")
    add.add_argument(
        "--supervisor",
        action="store_true",
        help="a counsellor who may read along in colleagues' chats (!watch; the visitor is told)",
    )
    add.add_argument(
        "--languages",
        type=_languages,
        metavar="nl,en,pl",
        help="the languages a counsellor speaks, comma-separated (default: nl,en); chats in them are routed to them",
    )
    staff_sub.add_parser(
        "list", help="every staff account: login, role, the languages they speak, the name visitors see, active or not"
    )
    supervise = staff_sub.add_parser("supervisor", help="let a counsellor read along in colleagues' chats, or not")
    supervise.add_argument("name", help="the login or the full Matrix ID")
    supervise.add_argument("--off", action="store_true", help="no longer a supervisor")
    speaks = staff_sub.add_parser("languages", help="set the languages a staff member speaks")
    speaks.add_argument("name", help="the login or the full Matrix ID")
    speaks.add_argument("languages", type=_languages, metavar="nl,en,pl", help="comma-separated language codes")
    disable = staff_sub.add_parser("disable", help="end every session of an account and take it out of every room")
    disable.add_argument("name", help="the login or the full Matrix ID")
    reset = staff_sub.add_parser("reset-identity", help="trust a staff member's new cross-signing identity")
    reset.add_argument("name", help="the login or the full Matrix ID")
    reset.add_argument(
        "--key",
        required=True,
        help="the new identity's master key as the staff member's own Element shows it (spaces allowed)",
    )
    sub.add_parser("example-config", help="print the commented example keerpunt.yaml")
    texts = sub.add_parser("texts", help="the visitor texts in every language")
    texts_sub = texts.add_subparsers(dest="texts_command", required=True)
    texts_check = texts_sub.add_parser(
        "check", help="list missing and unreviewed keys per language; exit 1 when a key is missing"
    )
    texts_check.add_argument("--summary", action="store_true", help="counts only, no list of unreviewed keys")
    report = sub.add_parser("report", help="the statistics of a period: an HTML page, CSV or JSON")
    report.add_argument("--from", dest="first", required=True, type=_day, metavar="YYYY-MM-DD", help="first day")
    report.add_argument("--to", dest="last", required=True, type=_day, metavar="YYYY-MM-DD", help="last day (included)")
    report.add_argument("--format", choices=["html", "csv", "json"], default="html", help="default: html")
    report.add_argument("--lang", choices=["nl", "en"], help="language of the HTML page (default: languages.default)")
    report.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    return parser


def _config_path(args: argparse.Namespace) -> str | None:
    if args.config:
        return str(args.config)
    return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).exists() else None


def _setup_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("KEERPUNT_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # No log line names a visitor, a room or an address (SECURITY.md G.31): every record is
    # scrubbed, and matrix-nio's per-room chatter stays below INFO.
    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubIdentifiers())
    for noisy in ("aiohttp.access", "nio", "peewee"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "report" and args.first > args.last:
        parser.error(f"--from {args.first} is after --to {args.last}")  # exits 2, as argparse does
    if args.command == "example-config":
        from keerpunt.base.config import example_text

        sys.stdout.write(example_text())
        return 0
    if args.command == "texts":  # needs no configuration: it reads the shipped text files
        from keerpunt.texts_check import check, render

        report = check()
        sys.stdout.write(render(report, details=not args.summary))
        return 0 if report.ok else 1
    _setup_logging()
    config_path = _config_path(args)
    try:
        config = load_config(config_path, data_dir=args.data_dir)
        return _dispatch(args, config, config_path)
    except ConfigError as exc:
        print(f"keerpunt: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def _dispatch(args: argparse.Namespace, config: Config, config_path: str | None) -> int:
    from keerpunt.synapse_config import init_synapse

    if args.command == "init":
        path = init_synapse(config)
        check_secret_files(config, "init")
        print(f"Synapse configuration written to {path}")
        return 0
    if args.command == "dev":
        if config.mode != "dev":
            raise ConfigError("mode", "`keerpunt dev` needs mode: dev")
        if args.workers:
            from keerpunt.devworkers import run_dev_workers

            return run_dev_workers(config, config_path)
        from keerpunt.devstack import run_dev

        return asyncio.run(run_dev(config, config_path))
    if args.command in ("backup", "restore", "backup-key"):
        return _backup(config, args)
    if args.command == "caddyfile":
        from keerpunt.caddy import render_caddyfile

        sys.stdout.write(render_caddyfile(config, "local" if args.local else "production"))
        return 0
    if args.command == "run":
        check_secret_files(config, args.process)
        from keerpunt.base.service import run_service

        if args.process == "bots":
            from bots.service import BotsService

            return run_service(BotsService(config))
        from portal.process import run_portal

        return run_portal(config)
    if args.command == "staff":
        return _staff(config, args)
    if args.command == "report":
        return _report(config, args)
    raise AssertionError(args.command)


def _staff(config: Config, args: argparse.Namespace) -> int:
    from keerpunt import staff

    check_secret_files(config, "staff")
    try:
        if args.staff_command == "add":
            if args.partner and args.role != "partner":
                print("keerpunt: --partner is only for --role partner", file=sys.stderr)
                return 2
            if args.supervisor and args.role != "counsellor":
                print("keerpunt: --supervisor is only for --role counsellor", file=sys.stderr)
                return 2
            new = asyncio.run(
                staff.add_staff(
                    config,
                    args.shown_as,
                    args.role,
                    args.partner,
                    login=args.login,
                    organisation=args.organisation,
                    supervisor=args.supervisor,
                    languages=args.languages,
                )
            )
            role = f"{new.role}, supervisor" if args.supervisor else new.role
            speaks = f", speaks {','.join(args.languages)}" if args.languages else ""
            print(f"Created {new.user_id} ({role}{speaks}), shown to visitors as {' '.join(args.shown_as.split())}.")
            print(f"One-time password (shown once, change it after the first sign-in): {new.password}")
        elif args.staff_command == "list":
            for listed in asyncio.run(staff.list_staff(config)):
                member = listed.member
                partner = (
                    f" ({member.partner_id or member.organisation})" if member.partner_id or member.organisation else ""
                )
                state = "active" if listed.active else "disabled"
                role = f"{member.role}, supervisor" if member.supervisor else member.role
                languages = ",".join(member.languages)
                print(f"{member.user_id}\t{role}{partner}\t{languages}\t{listed.shown_as}\t{state}")
        elif args.staff_command == "supervisor":
            user = asyncio.run(staff.set_supervisor(config, args.name, not args.off))
            print(f"{user} {'may no longer' if args.off else 'may now'} read along in colleagues' chats.")
        elif args.staff_command == "languages":
            user = asyncio.run(staff.set_languages(config, args.name, args.languages))
            print(f"{user} speaks {','.join(args.languages)}.")
        elif args.staff_command == "disable":
            user = asyncio.run(staff.disable_staff(config, args.name))
            print(f"Disabled {user}: signed out everywhere, out of every room, no longer staff.")
        else:
            user = asyncio.run(staff.reset_identity(config, args.name, args.key))
            print(f"The bots trust {user}'s identity {staff.fingerprint(''.join(args.key.split()))} (and no other).")
    except staff.StaffError as exc:
        print(f"keerpunt: {exc}", file=sys.stderr)
        return 1
    return 0


def _backup(config: Config, args: argparse.Namespace) -> int:
    from keerpunt import backup
    from keerpunt.synapse_config import init_synapse

    try:
        if args.command == "backup-key":
            recipient = backup.new_identity(args.file)
            print(f"Identity written to {args.file}; keep it apart from the backups and the servers.")
            print(f"Signing key written to {backup.signing_key_path(args.file)}: put it on the server")
            print("(compose.yaml: secrets/backup_signing_key), then delete it here.")
            print(f"Recipient: {recipient}")
        elif args.command == "backup":
            if not args.recipient:
                raise backup.BackupError("give --recipient age1… (or set KEERPUNT_BACKUP_RECIPIENT)")
            if not str(args.signing_key) or str(args.signing_key) == ".":
                raise backup.BackupError("give --signing-key FILE (or set KEERPUNT_BACKUP_SIGNING_KEY)")
            check_secret_files(config, "backup")
            manifest = backup.backup(config, args.dir, args.recipient, args.signing_key)
            print(f"Backup written to {args.dir}: {', '.join(dict(manifest['files']))}")  # type: ignore[call-overload]
        else:
            check_secret_files(config, "backup")
            backup.restore(config, args.dir, args.identity)
            # Synapse's config embeds secrets (the visitor appservice's tokens): render it again
            # from the restored ones.
            init_synapse(config)
            print(f"Restored {args.dir} and rendered Synapse's config again; start Synapse, then the bots.")
    except FileExistsError:
        print(f"keerpunt: {args.file} exists; an identity is never overwritten", file=sys.stderr)
        return 1
    except backup.BackupError as exc:
        print(f"keerpunt: {exc}", file=sys.stderr)
        return 1
    return 0


def _report(config: Config, args: argparse.Namespace) -> int:
    from bots.stats.export import ReportError, read_report, render, write
    from bots.texts import as_language

    language = as_language(args.lang or config.languages.default)
    try:
        report = asyncio.run(read_report(config, args.first, args.last))
        write(render(report, args.format, language, config), args.output)
    except ReportError as exc:
        print(f"keerpunt: {exc}", file=sys.stderr)
        return 1
    return 0
