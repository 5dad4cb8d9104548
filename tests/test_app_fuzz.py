"""Every route of the app, fuzzed from the OpenAPI document it serves (schemathesis):
valid and invalid requests alike get a declared answer, never a 500 nor a traceback.

The app is the real one, with the API token on, a live run whose sink the fuzzer
can reach (its path parameters are sometimes the real ones), and a runner stand-in
that checks each request as the real RunService does (parse_spec) without running it."""
from __future__ import annotations

import logging

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from simulator.app import RunRegistry, create_app
from simulator.clients.spec import parse_spec
from simulator.errors import BadInput
from simulator.ledger import Ledger
from simulator.sink import EffectSink

TOKEN = "fuzz-token-0123456789abcdefghij"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def start_run(request: dict) -> str:
    for i, raw in enumerate(request["consumers"]):
        try:
            parse_spec(raw)
        except BadInput as exc:
            raise BadInput(str(exc), where=f"consumers[{i}]") from None
    run_id = f"fuzz-{len(registry.ids())}"
    registry.open(run_id)
    return run_id


registry = RunRegistry(keep_closed=50)
registry.open("live", EffectSink(Ledger()))
LIVE = registry.sink_path("live", "c").split("/")  # ['', 'runs', run_id, 'sink', token, ...]
app = create_app(registry=registry, start_run=start_run, api_token=TOKEN, max_events=50,
                 max_content_length=64 * 1024)
# Every check but "schema-valid data is accepted": whether a run request is valid
# depends on state no schema says (which reference consumers exist, which hosts
# --allow-target lists), so a schema-valid request may rightly be a 400.
CONFIG = schemathesis.Config.from_str("""
[checks]
positive_data_acceptance.enabled = false
""")
schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG)


@schema.hook
def flatmap_path_parameters(context, path_parameters: dict) -> st.SearchStrategy:
    """Most run ids (and sink tokens) are the live run's: random ones only ever
    meet the 404."""
    if not path_parameters or "run_id" not in path_parameters:
        return st.just(path_parameters)
    live = {**path_parameters, "run_id": LIVE[2]}
    if "token" in path_parameters:
        live["token"] = LIVE[4]
    return st.sampled_from([live, live, path_parameters])


@pytest.fixture(autouse=True)
def _quiet(caplog):
    caplog.set_level(logging.CRITICAL, logger="simulator.app.runs")  # skipped scenario files are fine here


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_route_answers_500_or_a_traceback(case) -> None:
    response = case.call_and_validate(headers=AUTH)
    assert response.status_code < 500
    assert "Traceback" not in response.text


def test_the_document_describes_every_route_and_field() -> None:
    import re

    from simulator.app import runs
    from simulator.sink import _FIELDS as EFFECT_FIELDS

    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    doc = app.test_client().get("/openapi.json").get_json()
    described = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert described == routes
    run_request = doc["paths"]["/runs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(run_request["properties"]) == set(runs.REQUEST_FIELDS)
    effect = doc["paths"]["/runs/{run_id}/sink/{token}/consumers/{consumer}/effects"]["post"]
    assert set(effect["requestBody"]["content"]["application/json"]["schema"]["properties"]) == EFFECT_FIELDS
