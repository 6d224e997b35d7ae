"""The ``prodml`` entry point: the command tree and the one error boundary."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from prodml.cli import (
    ab,
    drift,
    examples,
    features,
    governance,
    lineage,
    models,
    products,
    quality,
    runs,
    serve,
    tables,
    workflow,
)

app = typer.Typer(
    name="prodml",
    help="prodml: data-science products from landing files to served models, in code.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
workflow.register(app)
app.add_typer(runs.app, name="runs")
app.add_typer(tables.app, name="tables")
app.add_typer(products.app, name="products")
app.add_typer(models.app, name="models")
app.add_typer(examples.app, name="examples")
app.command("serve")(serve.serve)
app.add_typer(serve.tokens, name="tokens")
app.add_typer(ab.app, name="ab")
app.add_typer(quality.app, name="quality")
app.add_typer(drift.app, name="drift")
app.add_typer(features.app, name="features")
app.add_typer(governance.principals, name="principals")
app.add_typer(governance.grants, name="grants")
app.command("audit")(governance.audit)
app.command("server")(serve.server)
app.command("lineage")(lineage.lineage)
app.command("whoami")(governance.whoami)


def _print_version(value: bool) -> None:
    if value:
        from prodml import __version__

        typer.echo(f"prodml {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    if debug:
        os.environ["PRODML_DEBUG"] = "1"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; known errors become one red line and a non-zero exit code."""
    from prodml.errors import ProdmlError

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("PRODML_DEBUG") == "1"
    try:
        app(args=args, prog_name="prodml", standalone_mode=True)
    except ProdmlError as exc:
        if debug:
            raise
        from prodml.cli.console import error

        if exc.traced:
            exc.hint = "; ".join(filter(None, (exc.hint, "--debug shows the traceback")))
        error(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        from prodml.cli.console import error

        error("interrupted")
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        from prodml.cli.console import error

        error(f"unexpected {type(exc).__name__}: {exc} (re-run with --debug for the traceback)")
        sys.exit(1)
