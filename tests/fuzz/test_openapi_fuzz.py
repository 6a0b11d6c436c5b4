"""schemathesis against the API's own OpenAPI schema: every operation, with generated path,
query and body values (valid and invalid), answers without a 5xx and without an exception.

The app runs in-process (ASGI) on an in-memory DuckDB store with the tests/api town. Exclusions:
``GET /api/events`` (an endless SSE stream; covered by tests/api/test_events.py) and, as admin,
``POST /api/scenarios/replay`` (would simulate a whole day in the background) — that one is
fuzzed as an operator (403 path). The number of cases tried is printed (``pytest -s``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.filterwarnings("ignore")
EXAMPLES = 25
SKIP = {("GET", "/api/events")}
AS_OPERATOR = {("POST", "/api/scenarios/replay")}
TRIED: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzz_api() -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from lifeline.api import auth
    from lifeline.api.app import create_app
    from lifeline.store import open_store
    from tests.api.conftest import PASSWORD, ROLE_USERS, Api, tiny_town

    saved = dict(auth.HASH_PARAMS)
    auth.HASH_PARAMS.update({"time_cost": 1, "memory_cost": 1024, "parallelism": 1})
    store = open_store(":memory:")
    try:
        # the store is not owned by the app: schemathesis' ASGI transport runs the app's
        # lifespan once per request, which would otherwise close it
        app = create_app(store, secret="test-secret", close_store=False)
        ctx = app.state.ctx
        for name, df in tiny_town().items():
            ctx.store.replace_table(name, df)
        # the complaint classifier trains at its first use when the cache is cold (CI), which on
        # a busy machine outlasts schemathesis' 10 s read timeout: build it here, not in a request
        from lifeline.incidents.complaints.classifier import get_classifier

        get_classifier()
        tokens = {}
        for name, (role, district) in ROLE_USERS.items():
            ctx.users.add(name, PASSWORD, role, district)
            tokens[name] = ctx.signer.issue(name)[0]
        yield Api(TestClient(app), app, tokens)
    finally:
        store.close()
        auth.HASH_PARAMS.clear()
        auth.HASH_PARAMS.update(saved)


def _operations() -> list[tuple[str, str]]:
    from lifeline.api.routes import ROUTERS

    out = []
    for r in ROUTERS:
        for route in r.routes:
            for m in sorted(getattr(route, "methods", ()) or ()):
                out.append((m, str(getattr(route, "path", ""))))
    out.append(("GET", "/api/config"))
    return sorted(set(out))


@pytest.mark.parametrize(("method", "path"), _operations())
def test_operation_never_5xx(fuzz_api: Any, method: str, path: str) -> None:
    import schemathesis

    if (method, path) in SKIP:
        pytest.skip("endless SSE stream")
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_api.app)
    op = schema[path][method.lower()]
    who = "operator" if (method, path) in AS_OPERATOR else "admin"
    key = f"{method} {path}"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(), anonymous=st.booleans())
    def run(case: Any, anonymous: bool) -> None:
        TRIED[key] = TRIED.get(key, 0) + 1
        r = case.call(headers={} if anonymous else fuzz_api.h(who))
        assert r.status_code < 500, (key, case.path_parameters, case.query, case.body, r.text)
        if r.status_code >= 400:  # errors are JSON with a detail
            assert "detail" in r.json(), (key, r.text)

    run()
    assert TRIED[key] >= 1


def test_report_cases_tried() -> None:
    """Prints the number of generated requests (runs after the operations in file order)."""
    print(f"\nschemathesis: {sum(TRIED.values())} requests over {len(TRIED)} operations")
