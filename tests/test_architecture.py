"""The architecture docs/architecture.md draws, held by reading the imports of every module: packages
by concern with a rank each, imports flowing only downwards, no import circles, botocore only in the
aws package (and the sandbox), typer and rich only in the command line, small modules that say what
they hold, and empty package __init__ files (so --help imports nothing it does not need)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, cast

PACKAGE = Path(__file__).resolve().parent.parent / "bootstrap"

# Lowest first: a package imports only packages of a lower rank. The sandbox stands apart.
RANKS = ("core", "aws", "config", "exports", "diagnose", "trust", "ci", "fleet", "cli")
# exports.render (results -> text or JSON) shows the fleet engines' results. Their values (fleet/results.py)
# name the StackSets engine's settings, which hold a Config, so they cannot sit in core yet: the
# renderers import them for annotations only, under `if TYPE_CHECKING:`, which costs nothing at run
# time and makes no import circle. Every such exception is listed here, and checked to stay annotation-only.
ANNOTATION_ONLY = {
    ("bootstrap.exports.render.text", "bootstrap.fleet.results"),
    ("bootstrap.exports.render.stacksets", "bootstrap.fleet.results"),
    ("bootstrap.exports.render.stacksets", "bootstrap.fleet.stacksets"),
}
FLAT = {"__init__", "__main__", "launch"}  # launch: --version and the help cache, before typer loads


def _annotation_imports(path: Path) -> set[str]:
    """The modules imported inside an ``if TYPE_CHECKING:`` block at the top of this file."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            found |= {n.module for n in node.body if isinstance(n, ast.ImportFrom) and n.module}
    return found


def _runtime_imports(path: Path) -> set[str]:
    """Every module this file imports outside its top-level ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    tree.body = [
        n
        for n in tree.body
        if not (isinstance(n, ast.If) and isinstance(n.test, ast.Name) and n.test.id == "TYPE_CHECKING")
    ]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {
    name: {d for d in _imports(path) if d in MODULES or not d.startswith("bootstrap")} for name, path in MODULES.items()
}


def _package(module: str) -> str:
    if not module.startswith("bootstrap."):
        return ""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in (*RANKS, "sandbox")) else ""


def test_every_module_lives_in_a_package_of_its_concern() -> None:
    flat = {p.stem for p in PACKAGE.glob("*.py")}
    assert flat <= FLAT, f"modules left flat in bootstrap/: {sorted(flat - FLAT)}"
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert packages == {*RANKS, "sandbox"}, packages


def test_imports_flow_downwards_only() -> None:
    upward = []
    for module, deps in GRAPH.items():
        here = _package(module)
        if here not in RANKS:
            continue
        for dep in deps:
            there = _package(dep)
            if there == "sandbox" and here != "cli":  # the command line may start the sandbox
                upward.append(f"{module} -> {dep} (only the command line starts the sandbox)")
            elif there in RANKS and RANKS.index(there) > RANKS.index(here):
                if any(module == m and dep.startswith(d) for m, d in ANNOTATION_ONLY):
                    continue  # checked below: for annotations only
                upward.append(f"{module} ({here}) -> {dep} ({there})")
    assert upward == [], "imports against the ranks:\n" + "\n".join(sorted(upward))


def test_the_upward_exceptions_are_for_annotations_only() -> None:
    for module, dep in ANNOTATION_ONLY:
        assert dep in _annotation_imports(MODULES[module]), (
            f"{module} no longer needs {dep}: drop it from ANNOTATION_ONLY"
        )
        runtime = {d for d in _runtime_imports(MODULES[module]) if d.startswith(dep)}
        assert not runtime, f"{module} imports {sorted(runtime)} at run time: only annotations may point upward"


def test_the_sandbox_imports_nothing_from_the_rest() -> None:
    for module, deps in GRAPH.items():
        if _package(module) == "sandbox":
            outside = {d for d in deps if d.startswith("bootstrap.") and _package(d) != "sandbox"}
            assert not outside, f"{module} imports {outside}"


def test_the_checker_sees_an_upward_import() -> None:
    # Guards the rank reading itself, so the test above cannot pass by matching nothing.
    assert _package("bootstrap.cli.app") == "cli" and _package("bootstrap.core.errors") == "core"
    assert "bootstrap.core.errors" in GRAPH["bootstrap.trust.workflows"]


def test_no_import_circles() -> None:
    def visit(module: str, path: list[str]) -> None:
        for dep in sorted(d for d in GRAPH.get(module, ()) if d in GRAPH and d != "bootstrap"):
            assert dep not in path, "import circle: " + " -> ".join([*path[path.index(dep) :], dep])
            visit(dep, [*path, dep])

    for module in GRAPH:
        visit(module, [module])


def test_package_init_files_import_nothing() -> None:
    for path in PACKAGE.glob("*/__init__.py"):
        body = [n for n in ast.parse(path.read_text()).body if not isinstance(n, ast.Expr)]
        assert body == [], f"{path.relative_to(PACKAGE)} holds code: keep it empty or a docstring"


def _third_party_users(*roots: str) -> set[str]:
    return {m for m, deps in GRAPH.items() if any(d.split(".")[0] in roots for d in deps)}


def test_botocore_only_in_the_aws_package_and_the_sandbox() -> None:
    users = _third_party_users("boto3", "botocore")
    assert {_package(m) for m in users} <= {"aws", "sandbox"}, sorted(users)


def test_typer_and_rich_only_in_the_command_line() -> None:
    users = _third_party_users("typer", "click", "rich")
    assert {_package(m) for m in users} <= {"cli"}, sorted(users)


def test_only_the_aws_package_handles_botocore_errors() -> None:
    """botocore's exceptions (ClientError and the rest) are caught and translated in the aws package
    only; everything above it sees typed BootstrapErrors."""
    users = {
        m
        for m, deps in GRAPH.items()
        if any(d.startswith("botocore.exceptions") or d == "botocore.parsers" for d in deps)
    }
    assert {_package(m) for m in users} <= {"aws", "sandbox"}, sorted(users)


def test_every_module_says_what_it_holds() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.read_text().strip():
            docstring = ast.get_docstring(ast.parse(path.read_text()))
            assert docstring, f"{path.relative_to(PACKAGE)} has no docstring saying what it holds"


# Workflows decide and act; the command line shows. They report through callbacks and return values.
WORKFLOW_PACKAGES = ("trust", "ci", "fleet", "diagnose")


def test_workflows_neither_print_nor_render() -> None:
    for module, path in MODULES.items():
        if _package(module) not in WORKFLOW_PACKAGES:
            continue
        shows = {
            d
            for d in GRAPH[module]
            if d.startswith("bootstrap.exports.render") or _package(d) == "cli" or d.split(".")[0] in ("rich", "typer")
        }
        assert not shows, f"{module} imports {shows}: report to on_progress and return a value instead"
        source = path.read_text()
        assert "print(" not in source and "sys.stderr" not in source and "sys.stdout" not in source, module


def test_modules_stay_small() -> None:
    """A newcomer reads a module in one sitting: 400 lines at most."""
    for path in PACKAGE.rglob("*.py"):
        lines = len(path.read_text().splitlines())
        assert lines <= 400, f"{path.relative_to(PACKAGE)} has {lines} lines"


def test_only_moto_private_reaches_into_moto() -> None:
    """moto promises its HTTP API, not its backends: every use of its internals is in moto_private,
    and CloudFormation's CallAs emulation (delegated.py, which wraps moto's StackSet calls)."""
    users = _third_party_users("moto")
    assert users == {"bootstrap.sandbox.moto_private", "bootstrap.sandbox.delegated"}, users


# -- the kinds of trust: one interface, one registry (bootstrap/cli/kinds/) -------------------------

KINDS_PACKAGE = "bootstrap.cli.kinds"
KIND_MODULES = {m for m in MODULES if m.startswith(KINDS_PACKAGE + ".")} - {
    f"{KINDS_PACKAGE}.base",
    f"{KINDS_PACKAGE}.registry",
}


def test_the_command_line_does_not_choose_the_kind() -> None:
    """The commands ask the registry (kinds.pick); they never test which kind a request is."""
    for module in ("bootstrap.cli.app", "bootstrap.cli.runs", "bootstrap.cli.tfcruns"):
        source = MODULES[module].read_text()
        for choice in (".oidc is not None", ".oidc is None", "uses_stacksets", "is_fleet", ".companion", ".hub_role"):
            assert choice not in source, f"{module} chooses the kind itself ({choice!r}): ask kinds.pick"
    app = MODULES["bootstrap.cli.app"].read_text()
    for workflow in ("fleet_of", "config_of", "cli.runs", "tfcruns", "trust.workflows", "trust.teardown"):
        assert workflow not in app, f"cli/app.py reaches a kind's workflow ({workflow}) instead of its registry entry"


def test_every_kind_has_exactly_one_registry_entry() -> None:
    from bootstrap.cli.kinds import registry

    names = [kind.name for kind in registry.KINDS]
    assert len(names) == len(set(names)), f"a kind listed twice: {names}"
    assert len({id(kind) for kind in registry.KINDS}) == len(names)
    homes = {type(kind).__module__ for kind in registry.KINDS}
    assert homes == KIND_MODULES, f"a kind module without a registry entry, or an entry without its module: {homes}"
    documented = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    for name in names:
        assert f"`{name}`" in documented, f"docs/architecture.md does not list the kind {name}"


def test_exactly_one_kind_takes_each_request() -> None:
    from types import SimpleNamespace

    from bootstrap.cli.kinds import registry
    from bootstrap.cli.kinds.base import Run

    def trust(oidc: object) -> Any:
        return SimpleNamespace(oidc=oidc)

    def ci(hub_role: str | None = None, companion: object = None) -> object:
        return SimpleNamespace(hub_role=hub_role, companion=companion)

    requests = {
        "key-based": Run({}, config=trust(None)),
        "oidc-direct": Run({}, config=trust(ci())),
        "oidc-hub": Run({}, config=trust(ci(hub_role="ci-hub"))),
        "tfc-pair": Run({}, config=trust(ci(companion=object()))),
        "fleet-threads": Run({}, fleet=cast("Any", SimpleNamespace(config_file=None, engine="local"))),
        "fleet-stacksets": Run({}, fleet=cast("Any", SimpleNamespace(config_file=None, engine="stacksets"))),
    }
    assert set(requests) == {kind.name for kind in registry.KINDS}, "a kind without a request in this test"
    for name, run in requests.items():
        assert [kind.name for kind in registry.KINDS if kind.takes(run)] == [name]
        assert registry.pick(run).name == name


def test_adding_a_kind_is_one_module_and_one_registry_line() -> None:
    """A kind's module imports the interface (base) and its own workflow, never another kind; only
    the registry imports the kinds' modules, and the commands import only the registry."""
    for module, deps in GRAPH.items():
        kinds_used = {d for d in deps if d in KIND_MODULES or d.rpartition(".")[0] in KIND_MODULES}
        if module == f"{KINDS_PACKAGE}.registry":
            assert {d for d in kinds_used if d in KIND_MODULES} == KIND_MODULES
        else:
            assert not kinds_used, f"{module} imports a kind's module {sorted(kinds_used)}: go through the registry"


# One value per idea: what a workflow knows before its first write is trust.prepared.Prepared for
# every kind of trust; a kind's own fields are its data class (KeyBasedData, CiData, FleetData, ...).
PREPARED_HOME = "bootstrap.trust.prepared"


def test_one_prepared_value_for_every_kind() -> None:
    for module, path in MODULES.items():
        if module == PREPARED_HOME:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                assert not node.name.endswith("Prepared"), (
                    f"{module} defines the class {node.name}: use {PREPARED_HOME}.Prepared with the kind's data class"
                )
            if isinstance(node, ast.ImportFrom):  # nor another value under that name
                for alias in node.names:
                    bound = alias.asname or alias.name
                    ours = node.module == PREPARED_HOME and alias.name == bound == "Prepared"
                    assert ours or not bound.endswith("Prepared"), f"{module} imports {alias.name} as {bound}"


def test_each_prepared_value_names_its_kind_as_the_registry_does() -> None:
    """Prepared.kind is a registry name: the literals a workflow gives it (Prepared("key-based", ...),
    kind="tfc-pair", ci.flow.kind_of) are exactly the registry's names."""
    from bootstrap.cli.kinds import registry

    given: set[str] = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            values: list[ast.expr] = []
            if isinstance(node, ast.Call):
                callee = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                values += [k.value for k in node.keywords if k.arg == "kind"]
                values += node.args[:1] if callee == "Prepared" else []
            if isinstance(node, ast.FunctionDef) and node.name == "kind_of":
                values += [r.value for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None]
            given |= {
                c.value for v in values for c in ast.walk(v) if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
    assert given == {kind.name for kind in registry.KINDS}
