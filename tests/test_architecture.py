"""The layering the README's "How it works" promises, held by reading the imports of every module:
no import circles, pure modules never touch boto3 or typer, only the command line imports typer,
and every module says on its first line what it holds."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "bootstrap"

# Pure: values in, values out. No AWS client, no command-line framework.
PURE = (
    "adminpolicy", "arns", "assumerequest", "awswords", "checks", "config", "schema", "desired", "evaluator",
    "exports", "facts", "fieldcheck", "findings", "fleet_request", "fleetresults", "fleetconfig", "iamkinds", "initfile", "oidcrender", "orgchecks", "plan",
    "policydoc", "quotas", "render", "results", "sourcechecks", "stacksets", "stacksets_render", "state",
    "trustchecks",
)  # fmt: skip
COMMAND_LINE = ("cli", "cli_edge", "cli_help", "cli_init", "cli_options", "cli_runs", "cli_sandbox")


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
            if node.module == "bootstrap":
                found |= {f"bootstrap.{alias.name}" for alias in node.names}
    return found


GRAPH = {_module(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def test_no_import_circles() -> None:
    def visit(module: str, path: list[str]) -> None:
        for dep in sorted(d for d in GRAPH.get(module, ()) if d in GRAPH and d != "bootstrap"):
            assert dep not in path, "import circle: " + " -> ".join([*path[path.index(dep) :], dep])
            visit(dep, [*path, dep])

    for module in GRAPH:
        visit(module, [module])


def test_pure_modules_import_neither_boto3_nor_typer() -> None:
    for name in PURE:
        imported = GRAPH[f"bootstrap.{name}"]
        banned = {m for m in imported if m.split(".")[0] in ("boto3", "typer", "click")}
        assert not banned, f"bootstrap.{name} imports {banned}"


def test_only_the_command_line_imports_typer() -> None:
    users = {m for m, deps in GRAPH.items() if any(d.split(".")[0] in ("typer", "click") for d in deps)}
    assert users <= {f"bootstrap.{name}" for name in COMMAND_LINE}, users


def test_every_module_says_what_it_holds() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.read_text().strip():
            docstring = ast.get_docstring(ast.parse(path.read_text()))
            assert docstring, f"{path.name} has no docstring saying what it holds"


# Workflows decide and act; the command line shows. They report through callbacks and return values.
WORKFLOWS = (
    "commands", "prewrite", "proof", "teardown", "oidcflow", "oidcci", "fleet", "fleet_flow", "stackset_flow", "diagnose",
    "diagnose_flow", "export_flow", "initflow",
)  # fmt: skip


def test_workflows_neither_print_nor_render() -> None:
    for name in WORKFLOWS:
        imported = GRAPH[f"bootstrap.{name}"]
        shows = {
            m for m in imported if m in ("bootstrap.progress", "bootstrap.render", "rich") or m.startswith("typer")
        }
        assert not shows, f"bootstrap.{name} imports {shows}: report to on_progress and return a value instead"
        source = (PACKAGE / f"{name}.py").read_text()
        assert "print(" not in source and "sys.stderr" not in source and "sys.stdout" not in source, name


def test_the_command_line_never_imports_boto3() -> None:
    for name in COMMAND_LINE:
        banned = {m for m in GRAPH[f"bootstrap.{name}"] if m.split(".")[0] in ("boto3", "botocore")}
        assert not banned, f"bootstrap.{name} imports {banned}: ask a workflow or the sessions layer"


def test_modules_stay_small() -> None:
    """A newcomer reads a module in one sitting: ~400 lines at most (oidc.py, the OIDC trust model with
    its provider table, is the one left to split)."""
    pending = {"oidc.py"}
    for path in PACKAGE.rglob("*.py"):
        if path.name not in pending:
            assert len(path.read_text().splitlines()) <= 420, f"{path.name} is over 420 lines"


def test_only_the_aws_layer_handles_botocore_errors() -> None:
    """botocore's exceptions (ClientError and the rest) are caught and translated in the aws_*
    modules only; everything above them sees typed BootstrapErrors."""
    layer = {m for m in GRAPH if m.split(".")[-1] == "aws" or m.split(".")[-1].startswith("aws_")}
    users = {
        m
        for m, deps in GRAPH.items()
        if any(d.startswith("botocore.exceptions") or d == "botocore.parsers" for d in deps)
    }
    assert users - layer - {m for m in users if m.startswith("bootstrap.sandbox")} == set(), users - layer


def test_only_moto_private_reaches_into_moto() -> None:
    """moto promises its HTTP API, not its backends: every use of its internals is in moto_private,
    and CloudFormation's CallAs emulation (delegated.py, which wraps moto's StackSet calls)."""
    users = {m for m, deps in GRAPH.items() if any(d.split(".")[0] == "moto" for d in deps)}
    assert users == {"bootstrap.sandbox.moto_private", "bootstrap.sandbox.delegated"}, users
