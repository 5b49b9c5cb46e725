"""The ``clusterwatch`` command line (Typer + Rich)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from scraper.config import load_config

app = typer.Typer(
    help="Watch innovation-cluster sites and publish new announcements as feeds.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the database schema (Alembic)."""
    from db.migrate import current_revision, upgrade

    url = load_config().db_url
    upgrade(url, revision)
    console.print(f"database at revision [bold]{current_revision(url)}[/] ({url})")


@app.command()
def replay(
    directory: Annotated[
        Path,
        typer.Argument(help="Tree of replayed sites: DIR/<host>/…", exists=True, file_okay=False),
    ],
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    log: Annotated[
        Path | None, typer.Option(help="Append every request as JSON lines here.")
    ] = None,
) -> None:
    """Serve replayed sites through the mirror protocol (for CLUSTERWATCH_MIRROR)."""
    from monitor.replay import serve_forever

    console.print(
        f"replaying [bold]{directory}[/] at http://{host}:{port}/<sitehost>/… — "
        f"crawl with CLUSTERWATCH_MIRROR=http://{host}:{port}"
    )
    serve_forever(directory, host, port, log)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
