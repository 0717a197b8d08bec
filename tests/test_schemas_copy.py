"""``avrobridge schemas copy`` between two of our registries over HTTP (memory and SQLite
stores; the source's ids start at 1001, the target's at 1), checked with confluent-kafka's
``SchemaRegistryClient``: with and without ``--keep-ids``, references, soft-deleted versions,
settings, a second run, a dry run, refusals, ``--subject``, ``--map-out``, auth and TLS."""

from __future__ import annotations

import argparse
import json
import ssl
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from avrobridge.registry import BackgroundServer, ServerSettings
from avrobridge.registry.auth import hash_password
from avrobridge.schemas_cli import add_schemas_commands
from conftest import SOURCE_FIRST_ID, RegistryPair
from registry.helpers import make_self_signed


def record(name: str, *fields: tuple[str, Any], **extra: Any) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "namespace": "acme",
            "fields": [{"name": n, "type": t, **extra.get(n, {})} for n, t in fields],
        }
    )


ADDRESS_OLD = record("Address", ("line", "string"))
ADDRESS = record("Address", ("street", "string"))
CUSTOMER = record("Customer", ("home", "acme.Address"))
ORDER_V1 = record("Order", ("id", "long"))
ORDER_V2 = record("Order", ("id", "long"), ("note", "string"), note={"default": ""})
ORDER_V3 = record("Order", ("id", "long"), ("note", "string"), ("qty", "int"), qty={"default": 1})
ORDER_BAD = record("Order", ("sku", "string"))  # not compatible with ORDER_V1
PAYMENT = record("Payment", ("amount", "double"))
DECOY = record("Decoy", ("x", "int"))


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="avrobridge")
    add_schemas_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def copy(pair: RegistryPair, *extra: str) -> int:
    return run(["schemas", "copy", "--from", pair.source.url, "--to", pair.target.url, *extra])


class Api:
    """Raw HTTP on one registry, failing loudly on an unexpected answer."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)

    def __call__(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self.http.request(method, path, json=body, params=params)
        assert response.status_code < 400, (method, path, response.text)
        return response.json()

    def register(self, subject: str, schema: str, **extra: Any) -> int:
        return int(self("POST", f"/subjects/{subject}/versions", {"schema": schema, **extra})["id"])


@pytest.fixture
def apis(registry_pair: RegistryPair) -> Iterator[tuple[Api, Api]]:
    source, target = Api(registry_pair.source.url), Api(registry_pair.target.url)
    yield source, target
    source.http.close()
    target.http.close()


def fill_source(src: Api) -> dict[str, int]:
    """Subjects with history: references across subjects with renumbered versions, a
    soft-deleted version, a soft-deleted subject, incompatible history under today's level,
    and subject and global settings. Returns the source ids by name."""
    ids = {}
    assert src.register("address", ADDRESS_OLD) == SOURCE_FIRST_ID  # hard-deleted below
    src("PUT", "/config/address", {"compatibility": "NONE"})
    ids["address"] = src.register("address", ADDRESS)  # address v2
    src("DELETE", "/config/address")
    src("DELETE", "/subjects/address/versions/1")
    src("DELETE", "/subjects/address/versions/1", permanent="true")  # address: only v2
    ref = {"name": "acme.Address", "subject": "address", "version": 2}
    ids["customer"] = src.register("customer", CUSTOMER, references=[ref])
    ids["order_v1"] = src.register("orders-value", ORDER_V1)
    ids["order_v2"] = src.register("orders-value", ORDER_V2)
    ids["order_v3"] = src.register("orders-value", ORDER_V3)
    src("DELETE", "/subjects/orders-value/versions/2")  # soft: the copy keeps it deleted
    src("PUT", "/config/legacy", {"compatibility": "NONE"})
    ids["legacy_v1"] = src.register("legacy", ORDER_V1)
    ids["legacy_v2"] = src.register("legacy", ORDER_BAD)  # fine under NONE...
    src("DELETE", "/config/legacy")  # ...but not under today's BACKWARD
    ids["payment"] = src.register("payments-value", PAYMENT)
    src("DELETE", "/subjects/payments-value")  # a soft-deleted subject
    src("PUT", "/config/orders-value", {"compatibility": "FULL"})
    src("PUT", "/mode/customer", {"mode": "READONLY"})
    src("PUT", "/config", {"compatibility": "FORWARD"})
    return ids


def snapshot(url: str) -> dict[str, Any]:
    """Everything a client sees: per subject, per version (soft-deleted ones too) the schema,
    its references, its id and whether it is deleted; the subjects' own settings; the global
    ones. Read with confluent-kafka's client (and raw HTTP where it has no call)."""
    with SchemaRegistryClient({"url": url}) as sr, httpx.Client(base_url=url) as http:
        out: dict[str, Any] = {"subjects": {}}
        for subject in sr.get_subjects(deleted=True):
            live = set(sr.get_versions(subject)) if subject in sr.get_subjects() else set()
            versions = {}
            for number in sr.get_versions(subject, deleted=True):
                found = sr.get_version(subject, number, deleted=True)
                assert found.schema is not None
                versions[number] = {
                    "schema": json.loads(found.schema.schema_str or ""),
                    "references": [
                        (r.name, r.subject, r.version) for r in found.schema.references or []
                    ],
                    "id": found.schema_id,
                    "deleted": number not in live,
                }
            config = http.get(f"/config/{subject}")
            mode = http.get(f"/mode/{subject}")
            out["subjects"][subject] = {
                "versions": versions,
                "config": config.json().get("compatibilityLevel") if config.is_success else None,
                "mode": mode.json().get("mode") if mode.is_success else None,
            }
        out["config"] = sr.get_compatibility()
        out["mode"] = sr.get_global_mode()
        return out


def log_end(server: BackgroundServer) -> int:
    """The target's log offset: unchanged means nothing was written."""
    return server.service.state.offset


# -- without --keep-ids ----------------------------------------------------------------------


def test_copy_allocates_ids_and_maps_them(
    registry_pair: RegistryPair,
    apis: tuple[Api, Api],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src, _ = apis
    ids = fill_source(src)
    map_file = tmp_path / "map.json"
    assert copy(registry_pair, "--map-out", str(map_file)) == 0
    out = capsys.readouterr().out
    mapping = json.loads(map_file.read_text())
    # Every source id has a target id holding the same schema, and none is the same number.
    assert set(mapping["ids"]) == {str(i) for i in ids.values()}
    with (
        SchemaRegistryClient({"url": registry_pair.target.url}) as tgt_sr,
        SchemaRegistryClient({"url": registry_pair.source.url}) as src_sr,
    ):
        for source_id, target_id in mapping["ids"].items():
            assert int(source_id) != target_id
            assert f"  {source_id} -> {target_id}" in out
            want = json.loads(src_sr.get_schema(int(source_id)).schema_str or "")
            assert json.loads(tgt_sr.get_schema(target_id).schema_str or "") == want
    # Versions are renumbered by the target; references follow the new numbers.
    assert mapping["versions"]["address"] == {"2": 1}
    source, target = snapshot(registry_pair.source.url), snapshot(registry_pair.target.url)
    assert target["subjects"]["customer"]["versions"][1]["references"] == [
        ("acme.Address", "address", 1)
    ]
    # The rest is as in the source: the same histories, deleted flags and settings.
    for subject, want in source["subjects"].items():
        got = target["subjects"][subject]
        numbers = mapping["versions"][subject]
        assert {int(k): v for k, v in numbers.items()}.keys() == want["versions"].keys()
        for number, version in want["versions"].items():
            copied = got["versions"][numbers[str(number)]]
            assert copied["schema"] == version["schema"]
            assert copied["deleted"] == version["deleted"]
            assert copied["id"] == mapping["ids"][str(version["id"])]
        assert (got["config"], got["mode"]) == (want["config"], want["mode"])
    assert (target["config"], target["mode"]) == ("FORWARD", "READWRITE")
    assert "Done: 8 registered, 2 soft-deleted" in out


def test_a_second_run_changes_nothing_and_says_so(
    registry_pair: RegistryPair, apis: tuple[Api, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    fill_source(apis[0])
    assert copy(registry_pair) == 0
    capsys.readouterr()
    before = log_end(registry_pair.target)
    assert copy(registry_pair) == 0
    out = capsys.readouterr().out
    assert log_end(registry_pair.target) == before
    assert "Nothing to copy: the target already holds all 8 version(s)" in out
    assert copy(registry_pair, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["changed"], summary["registered"], summary["already_there"]) == (False, [], 8)


def test_dry_run_changes_nothing(
    registry_pair: RegistryPair,
    apis: tuple[Api, Api],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fill_source(apis[0])
    before = log_end(registry_pair.target)
    map_file = tmp_path / "map.json"
    assert copy(registry_pair, "--dry-run", "--map-out", str(map_file)) == 0
    out = capsys.readouterr().out
    assert log_end(registry_pair.target) == before
    assert not map_file.exists()
    assert f"  would register address v2 (id {SOURCE_FIRST_ID + 1} -> new)" in out
    assert "  would soft-delete orders-value v2" in out
    assert "  would set global compatibility: BACKWARD -> FORWARD" in out
    assert "Dry run: nothing was written. (--map-out not written)" in out
    # And it said what the real run then does.
    assert copy(registry_pair) == 0
    assert "  register address v2 (id 1002 -> 1)" in capsys.readouterr().out


def test_subject_regex_selects_subjects_and_what_they_reference(
    registry_pair: RegistryPair, apis: tuple[Api, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    fill_source(apis[0])
    assert copy(registry_pair, "--subject", "cust.*") == 0
    out = capsys.readouterr().out
    assert "also copied because references need them: address" in out
    assert "global settings left alone (--subject given)" in out
    target = snapshot(registry_pair.target.url)
    assert sorted(target["subjects"]) == ["address", "customer"]
    assert target["subjects"]["customer"]["mode"] == "READONLY"
    assert target["subjects"]["address"]["config"] is None  # not a selected subject
    assert target["config"] == "BACKWARD"  # the source's FORWARD was not copied
    # Only whole names match.
    assert copy(registry_pair, "--subject", "orders") == 0
    assert "orders-value" not in snapshot(registry_pair.target.url)["subjects"]


def test_history_the_target_level_would_refuse_is_copied(
    registry_pair: RegistryPair, apis: tuple[Api, Api]
) -> None:
    src, tgt = apis
    fill_source(src)
    tgt("PUT", "/config/legacy", {"compatibility": "FULL_TRANSITIVE"})
    assert copy(registry_pair, "--subject", "legacy") == 0
    got = snapshot(registry_pair.target.url)["subjects"]["legacy"]
    assert [v["schema"]["name"] for v in got["versions"].values()] == ["Order", "Order"]
    assert got["config"] is None  # as the source: the temporary NONE is gone too


# -- with --keep-ids -------------------------------------------------------------------------


def test_keep_ids_imports_ids_and_versions(
    registry_pair: RegistryPair, apis: tuple[Api, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    src, tgt = apis
    ids = fill_source(src)
    tgt.register("unrelated", DECOY)  # the target is in use: id 1 is taken
    assert copy(registry_pair, "--keep-ids") == 0
    assert "(ids and versions kept)" in capsys.readouterr().out
    source, target = snapshot(registry_pair.source.url), snapshot(registry_pair.target.url)
    assert target["subjects"].pop("unrelated")["versions"][1]["id"] == 1
    assert target == source
    # No IMPORT mode is left behind, and new ids continue above the imported ones.
    assert tgt("GET", "/mode/orders-value", defaultToGlobal="true") == {"mode": "READWRITE"}
    assert tgt.register("fresh", PAYMENT.replace("Payment", "Fresh")) == max(ids.values()) + 1
    # Again: nothing to do.
    before = log_end(registry_pair.target)
    assert copy(registry_pair, "--keep-ids") == 0
    assert "Nothing to copy" in capsys.readouterr().out
    assert log_end(registry_pair.target) == before


def test_keep_ids_refuses_a_conflicting_id_and_writes_nothing(
    registry_pair: RegistryPair, apis: tuple[Api, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    src, tgt = apis
    first = src.register("orders-value", ORDER_V1)
    src.register("payments-value", PAYMENT)
    tgt("PUT", "/mode/other", {"mode": "IMPORT"})
    tgt.register("other", DECOY, id=first)  # the same id, another schema
    before = log_end(registry_pair.target)
    assert copy(registry_pair, "--keep-ids") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert (
        f"--keep-ids refused, nothing was written: the target already holds id {first} for a "
        "different schema, so the source's orders-value version 1 cannot keep its id" in err
    )
    assert log_end(registry_pair.target) == before
    # Without --keep-ids the same copy goes through, with ids of the target's choosing.
    assert copy(registry_pair) == 0
    assert tgt("GET", "/subjects/orders-value/versions/1")["id"] != first


def test_keep_ids_refuses_a_version_holding_something_else(
    registry_pair: RegistryPair, apis: tuple[Api, Api], capsys: pytest.CaptureFixture[str]
) -> None:
    src, tgt = apis
    src.register("orders-value", ORDER_V1)
    tgt.register("orders-value", ORDER_V2)  # version 1 on the target is another schema
    assert copy(registry_pair, "--keep-ids") == 1
    assert "the target's orders-value version 1 holds id 1" in capsys.readouterr().err


def test_keep_ids_restores_a_soft_deleted_target_version(
    registry_pair: RegistryPair, apis: tuple[Api, Api]
) -> None:
    src, tgt = apis
    src.register("orders-value", ORDER_V1)
    assert copy(registry_pair, "--keep-ids") == 0
    tgt("DELETE", "/subjects/orders-value/versions/1")  # drifted: deleted on the target only
    assert copy(registry_pair, "--keep-ids") == 0
    assert tgt("GET", "/subjects/orders-value/versions") == [1]
    assert snapshot(registry_pair.target.url) == snapshot(registry_pair.source.url)


# -- connections -----------------------------------------------------------------------------


def test_each_side_has_its_own_auth_and_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = make_self_signed(tmp_path)
    users = tmp_path / "users.txt"
    users.write_text(f"carol:readwrite:{hash_password('carol-secret', iterations=1000)}\n")
    base = ServerSettings(port=0, log_level="warning")
    tls = ServerSettings(port=0, log_level="warning", tls_cert=cert, tls_key=key)
    with (
        BackgroundServer(tls) as source,
        BackgroundServer(replace(base, auth_file=users)) as target,
    ):
        with httpx.Client(
            base_url=source.url, verify=ssl.create_default_context(cafile=cert)
        ) as http:
            http.post("/subjects/s/versions", json={"schema": ORDER_V1}).raise_for_status()
        argv = ["schemas", "copy", "--from", source.url, "--to", target.url]
        # No CA for the self-signed source, then no password for the target: clear errors.
        assert run(argv) == 1
        assert "cannot reach the source registry" in capsys.readouterr().err
        argv += ["--from-ca-cert", str(cert), "--to-user", "carol"]
        monkeypatch.setenv("AVROBRIDGE_REGISTRY_TO_PASSWORD", "wrong")
        assert run(argv) == 1
        err = capsys.readouterr().err
        assert "the target registry at" in err and "HTTP 401" in err
        assert "wrong" not in err
        monkeypatch.setenv("AVROBRIDGE_REGISTRY_TO_PASSWORD", "carol-secret")
        assert run(argv) == 0
        with httpx.Client(base_url=target.url, auth=("carol", "carol-secret")) as http:
            assert http.get("/subjects").json() == ["s"]


def test_bad_options_are_clear_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["schemas", "copy", "--from", "registry:8081", "--to", "http://x"]) == 2
    assert "--from 'registry:8081': give http(s)://host:port" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(["schemas", "copy", "--from", "http://a", "--to", "http://b", "--subject", "("])
    assert "is not a regular expression" in capsys.readouterr().err
    # Nothing listening: one line naming the side.
    assert run(["schemas", "copy", "--from", "http://127.0.0.1:9", "--to", "http://x:1"]) == 1
    assert "cannot reach the source registry at http://127.0.0.1:9" in capsys.readouterr().err


def test_confluent_client_reads_the_copy(
    registry_pair: RegistryPair, apis: tuple[Api, Api]
) -> None:
    src, _ = apis
    src.register("orders-value", ORDER_V1)
    src.register("orders-value", ORDER_V2)
    assert copy(registry_pair) == 0
    with SchemaRegistryClient({"url": registry_pair.target.url}) as sr:
        latest = sr.get_latest_version("orders-value")
        assert (latest.version, latest.schema_id) == (2, 2)
        assert sr.lookup_schema("orders-value", Schema(ORDER_V1, "AVRO")).schema_id == 1
        # The target keeps working as a registry: the next version registers as usual.
        assert sr.register_schema("orders-value", Schema(ORDER_V3, "AVRO")) == 3
