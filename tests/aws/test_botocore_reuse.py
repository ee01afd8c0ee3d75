"""What a run reuses of botocore's start-up behaves as botocore's own. The shared model loader
(botomodel.shared_loader) finds the same services for every kind of model, refuses a service that
does not exist the same way, and finds models a user adds through AWS_DATA_PATH; it only avoids
listing every service to find one. Sessions start from one registration of botocore's built-in
handlers, yet a handler registered on one session reaches no other."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.exceptions
import botocore.loaders
import botocore.session
import pytest

from bootstrap.aws import accounts as aws
from bootstrap.aws import botomodel

USED = ("iam", "sts", "organizations", "cloudformation")
KINDS = ("service-2", "paginators-1", "endpoint-rule-set-1", "waiters-2")


@pytest.mark.parametrize("kind", KINDS)
def test_services_known_as_botocore_knows_them(kind: str) -> None:
    ours = botomodel.shared_loader().list_available_services(kind)
    theirs = botocore.loaders.create_loader().list_available_services(kind)
    for service in (*USED, "s3", "ec2", "no-such-service", ""):
        assert (service in ours) == (service in theirs), service
    assert list(ours) == theirs  # listing in full (an error message does) is botocore's own listing


def test_models_load_as_botocore_loads_them() -> None:
    for service in USED:
        ours = botomodel.shared_loader().load_service_model(service, "service-2")
        assert ours == botocore.loaders.create_loader().load_service_model(service, "service-2")


def test_an_unknown_service_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(botocore.exceptions.UnknownServiceError) as refused:
        botomodel.shared_loader().load_service_model("no-such-service", "service-2")
    assert "iam" in str(refused.value) and "sts" in str(refused.value)


def test_models_from_aws_data_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = {"version": "2.0", "metadata": {"apiVersion": "2030-01-01"}, "operations": {}, "shapes": {}}
    folder = tmp_path / "trust-bootstrap-test" / "2030-01-01"
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model), encoding="utf-8")
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    loader = botomodel.shared_loader.__wrapped__()  # a fresh loader: the shared one is made once per process
    assert "trust-bootstrap-test" in loader.list_available_services("service-2")
    assert loader.load_service_model("trust-bootstrap-test", "service-2")["metadata"] == model["metadata"]


def test_sessions_start_with_botocores_handlers_and_keep_their_own() -> None:
    first, second = aws.open_account(None, "source"), aws.open_account(None, "target")
    heard: list[str] = []
    first.session.register("trust-bootstrap-test", lambda **_: heard.append("first"))
    first.session.emit("trust-bootstrap-test")
    second.session.emit("trust-bootstrap-test")
    assert heard == ["first"]
    # Each has the handlers a session botocore sets up itself has, event by event.
    builtin = botocore.session.Session().get_component("event_emitter")
    for account in (first, second):
        ours = account.session.get_component("event_emitter")
        for event in ("choose-signer.sts.AssumeRoleWithWebIdentity", "before-parameter-build.iam", "before-call.iam"):
            expected = list(builtin._emitter._handlers.prefix_search(event))
            assert expected and list(ours._emitter._handlers.prefix_search(event)) == expected, event
