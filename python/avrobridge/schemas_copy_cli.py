"""``avrobridge schemas copy``: the command line over ``schemas_copy``.

Each side has its own connection options (``--from-user``/``--to-user`` with the passwords
from ``AVROBRIDGE_REGISTRY_FROM_PASSWORD``/``AVROBRIDGE_REGISTRY_TO_PASSWORD`` or a prompt,
``--from-ca-cert``/``--to-ca-cert``). Exit codes as the other ``schemas`` commands: 0 done
(also when there was nothing to do), 1 an error or a refused ``--keep-ids`` (nothing written),
2 wrong usage.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cliparser import EXIT_USAGE

if TYPE_CHECKING:  # the command's modules load when it runs: `avrobridge --help` stays fast
    from .registry_client import RegistryEndpoint, RestClient
    from .schemas_copy import CopyPlan, Version

__all__ = ["ENV_FROM_PASSWORD", "ENV_TO_PASSWORD", "add_copy_command"]

ENV_FROM_PASSWORD = "AVROBRIDGE_REGISTRY_FROM_PASSWORD"
ENV_TO_PASSWORD = "AVROBRIDGE_REGISTRY_TO_PASSWORD"


def add_copy_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    help_text = (
        "copy subjects, every version (soft-deleted ones too), ids and settings from one "
        "registry to another"
    )
    p = commands.add_parser("copy", help=help_text, description=help_text)
    p.add_argument("--from", dest="source", required=True, metavar="URL", help="source registry")
    p.add_argument("--to", dest="target", required=True, metavar="URL", help="target registry")
    p.add_argument(
        "--subject",
        type=_regex,
        metavar="REGEX",
        help="only subjects whose whole name matches (global settings are then left alone)",
    )
    p.add_argument(
        "--keep-ids",
        action="store_true",
        help="keep ids and versions (the target's IMPORT mode); refused if the target holds "
        "one of the ids or versions for something else",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    p.add_argument(
        "--map-out", type=Path, metavar="FILE", help="write the id and version mapping as JSON"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request (30)")
    for side, env in (("from", ENV_FROM_PASSWORD), ("to", ENV_TO_PASSWORD)):
        group = p.add_argument_group(f"{side} registry connection")
        group.add_argument(
            f"--{side}-user", metavar="NAME", help=f"basic auth user; password from {env}"
        )
        group.add_argument(
            f"--{side}-ca-cert", type=Path, metavar="PEM", help="CA bundle for https"
        )
    p.set_defaults(handler=_copy)


def _regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a regular expression: {exc}") from None


def _endpoint(args: argparse.Namespace, side: str, env: str) -> RegistryEndpoint:
    from .errors import ConfigError
    from .registry_client import RegistryEndpoint, without_credentials

    url = str(getattr(args, "source" if side == "from" else "target")).strip()
    user = getattr(args, f"{side}_user")
    password = None
    if user:
        password = os.environ.get(env)
        if password is None:
            if not sys.stdin.isatty():
                raise ConfigError(f"--{side}-user {user}: set {env} (no terminal to ask)")
            password = getpass.getpass(f"Password for {user} at {without_credentials(url)}: ")
    endpoint = RegistryEndpoint(
        url=url,
        user=user,
        password=password,
        ca_cert=getattr(args, f"{side}_ca_cert"),
        timeout=args.timeout,
    )
    endpoint.check(f"--{side}")
    return endpoint


def _fail(message: str) -> int:
    line = re.sub(r"\s*[\r\n]+\s*", " ", message).strip()
    print(f"avrobridge schemas copy: error: {line}", file=sys.stderr)
    return 1


def _copy(args: argparse.Namespace) -> int:
    from .errors import ConfigError, RegistryError
    from .registry_client import RestClient
    from .schemas_copy import apply, plan_copy, read_source

    try:
        source_endpoint = _endpoint(args, "from", ENV_FROM_PASSWORD)
        target_endpoint = _endpoint(args, "to", ENV_TO_PASSWORD)
    except ConfigError as exc:
        _fail(str(exc))
        return EXIT_USAGE  # settings, as for every command
    with (
        RestClient(source_endpoint, "source") as source,
        RestClient(target_endpoint, "target") as target,
    ):
        try:
            plan = plan_copy(read_source(source, args.subject), target, args.keep_ids)
            if plan.conflicts:
                for conflict in plan.conflicts:
                    _fail(f"--keep-ids refused, nothing was written: {conflict}")
                return 1
            if not args.dry_run and plan.changes:
                apply(plan, target)
        except RegistryError as exc:
            return _fail(str(exc))
        if args.map_out is not None and not args.dry_run:
            try:
                args.map_out.write_text(json.dumps(_mapping(plan, source, target), indent=2))
            except OSError as exc:
                return _fail(f"cannot write --map-out {args.map_out}: {exc.strerror or exc}")
        if args.json:
            print(json.dumps(_summary(plan, source, target, args.dry_run), indent=2))
        else:
            _print_text(plan, source, target, args)
    return 0


# -- output ----------------------------------------------------------------------------------


def _target_id(plan: CopyPlan, version: Version) -> int | None:
    return plan.ids.get(version.schema_id)


def _mapping(plan: CopyPlan, source: RestClient, target: RestClient) -> dict[str, Any]:
    versions: dict[str, dict[str, int | None]] = {}
    for (subject, number), target_number in sorted(plan.versions.items()):
        versions.setdefault(subject, {})[str(number)] = target_number
    return {
        "source": source.shown_url,
        "target": target.shown_url,
        "keep_ids": plan.keep_ids,
        "ids": {str(k): v for k, v in sorted(plan.ids.items())},
        "versions": versions,
    }


def _summary(
    plan: CopyPlan, source: RestClient, target: RestClient, dry_run: bool
) -> dict[str, Any]:
    def entry(version: Version) -> dict[str, Any]:
        return {
            "subject": version.subject,
            "version": version.version,
            "source_id": version.schema_id,
            "target_id": _target_id(plan, version),
            "target_version": plan.versions.get(version.key),
        }

    return {
        **_mapping(plan, source, target),
        "dry_run": dry_run,
        "changed": plan.changes and not dry_run,
        "registered": [entry(v) for v in plan.register],
        "soft_deleted": [entry(v) for v in plan.delete],
        "settings": [
            {"subject": c.subject, "setting": c.kind, "old": c.old, "new": c.new}
            for c in plan.settings
        ],
        "already_there": plan.present,
    }


def _print_text(
    plan: CopyPlan, source: RestClient, target: RestClient, args: argparse.Namespace
) -> None:
    src = plan.source
    ids = "ids and versions kept" if plan.keep_ids else "ids allocated by the target"
    print(
        f"{len(src.subjects)} subject(s), {len(src.versions)} version(s) from "
        f"{source.shown_url} to {target.shown_url} ({ids})"
    )
    if src.referenced_only:
        print(f"also copied because references need them: {', '.join(src.referenced_only)}")
    if src.global_settings is None:
        print("global settings left alone (--subject given)")
    if not plan.changes:
        print(
            f"Nothing to copy: the target already holds all {plan.present} version(s) "
            "as the source does, with the same settings."
        )
        _print_ids(plan)
        return
    would = "would " if args.dry_run else ""

    def shown_id(version: Version) -> str:
        found = _target_id(plan, version)
        return "new" if found is None else str(found)

    for version in plan.register:
        print(
            f"  {would}register {version.subject} v{version.version} "
            f"(id {version.schema_id} -> {shown_id(version)})"
        )
    for version in plan.delete:
        print(f"  {would}soft-delete {version.subject} v{version.version}")
    for change in plan.settings:
        print(f"  {would}{change.describe()}")
    _print_ids(plan)
    if args.dry_run:
        print("Dry run: nothing was written." + (" (--map-out not written)" * bool(args.map_out)))
    else:
        print(
            f"Done: {len(plan.register)} registered, {len(plan.delete)} soft-deleted, "
            f"{len(plan.settings)} setting(s) changed, {plan.present} already there."
        )


def _print_ids(plan: CopyPlan) -> None:
    if plan.keep_ids or not plan.ids:
        return
    print("Ids (source -> target):")
    for source_id, target_id in sorted(plan.ids.items()):
        print(f"  {source_id} -> {'new' if target_id is None else target_id}")
