"""The `policy-search` command line: run the stack, ingest, search, operate."""

from __future__ import annotations

from typing import Any

import typer

from cli import stack
from cli.output import console, emit
from shared.settings import Settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__, pretty_exceptions_enable=False
)
keys_app = typer.Typer(no_args_is_help=True, help="Create, list and revoke API keys.")
sources_app = typer.Typer(no_args_is_help=True, help="Watched sources (listing pages, feeds).")
app.add_typer(keys_app, name="keys")
app.add_typer(sources_app, name="sources")
JSON = typer.Option(False, "--json", help="Machine-readable output")


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    from shared.migrate import upgrade
    from shared.settings import get_settings

    upgrade(get_settings().resolved_database_url)
    typer.echo("database is up to date")


@app.command()
def run(
    extract_concurrency: int = typer.Option(
        2, envvar="EXTRACT_CONCURRENCY", help="Extract worker processes"
    ),
) -> None:
    """Migrate, then run ingest, search, the workers and beat in the foreground."""
    from shared.celery_app import prepare_sqlite_broker
    from shared.migrate import upgrade
    from shared.settings import get_settings

    settings = get_settings()
    upgrade(settings.resolved_database_url)
    prepare_sqlite_broker(settings.resolved_broker_url)
    _bootstrap_key(settings)
    specs = stack.stack_processes(settings, extract_concurrency=extract_concurrency)
    typer.echo(
        f"policy-search: ingest http://{settings.host}:{settings.ingest_port}  "
        f"search http://{settings.host}:{settings.search_port}  data {settings.data_dir}"
    )
    raise typer.Exit(stack.Stack(specs).run_forever())


@app.command()
def serve(service: str = typer.Argument(..., help="ingest or search")) -> None:
    """Run one HTTP service in the foreground (one container per service in compose)."""
    _exec_one(service, concurrency=1)


@app.command()
def relay() -> None:
    """Publish the outbox's events to the broker, in the foreground (one per stack or
    more on PostgreSQL; the ingest service leaves it to this with INGEST_RELAY=false)."""
    from services.ingest.relay import run_standalone
    from shared.settings import get_settings

    run_standalone(get_settings())


@app.command()
def worker(
    role: str = typer.Argument(..., help="extract, indexer or beat"),
    concurrency: int = typer.Option(2, help="Worker processes (extract)"),
) -> None:
    """Run one Celery role in the foreground (scale with more containers)."""
    _exec_one(role, concurrency=concurrency)


def _exec_one(name: str, *, concurrency: int) -> None:
    import os

    from shared.settings import get_settings

    specs = {
        s.name: s for s in stack.stack_processes(get_settings(), extract_concurrency=concurrency)
    }
    if name not in specs:
        raise typer.BadParameter(f"unknown service {name!r}; one of {', '.join(specs)}")
    argv = list(specs[name].argv)
    if "-n" in argv:  # a stable node name per container, for `celery inspect ping`
        argv[argv.index("-n") + 1] = f"{name}@%h"
    os.execvp(argv[0], argv)


@app.command()
def ingest(
    targets: list[str] = typer.Argument(..., help="Files, folders (walked) or http(s) URLs"),
    wait: bool = typer.Option(True, help="Wait until every document is processed"),
    timeout: float = typer.Option(600, help="Seconds to wait with --wait"),
    as_json: bool = JSON,
) -> None:
    """Upload files and folders (txt, html, docx, pdf) or fetch URLs, with a summary."""
    from cli.ingest_cmd import ingest as run_ingest

    report = run_ingest(targets, wait=wait, as_json=as_json, timeout=timeout)
    if report["summary"].get("rejected"):
        raise typer.Exit(1)


@app.command()
def search(
    q: str = typer.Argument("", help='Query: terms, "phrases", -exclusions'),
    province: list[str] = typer.Option([], help="Filter (repeatable)"),
    doc_type: list[str] = typer.Option([], help="Filter (repeatable)"),
    sort: str = typer.Option("relevance", help="relevance | date_desc | date_asc"),
    size: int = typer.Option(10),
    as_json: bool = JSON,
) -> None:
    """Search and print the hits."""
    from cli.client import search_client

    params: dict[str, Any] = {
        "q": q,
        "sort": sort,
        "size": size,
        "province": province,
        "doc_type": doc_type,
    }
    with search_client() as client:
        r = client.get("/v1/search", params=params)
    body = r.json()
    if r.status_code != 200:
        console.print(f"[red]{body.get('detail', r.text)}[/red]")
        raise typer.Exit(1)
    if as_json:
        emit(body, as_json=True)
        return
    emit(
        body["hits"],
        as_json=False,
        columns=["id", "title", "doc_number", "date", "province", "doc_type"],
        title=f"{body['total']} results for {q!r}",
    )


@app.command()
def status(as_json: bool = JSON) -> None:
    """Documents by status."""
    from cli.admin_cmds import status_counts

    counts = status_counts()
    emit(
        counts if as_json else [{"status": k, "documents": v} for k, v in sorted(counts.items())],
        as_json=as_json,
        columns=["status", "documents"],
    )


@app.command("retry-failed")
def retry_failed(as_json: bool = JSON) -> None:
    """Retry every failed document from the stage where it failed."""
    from cli.client import ingest_client

    retried: list[dict[str, Any]] = []
    with ingest_client() as client:
        cursor = None
        while True:
            params: dict[str, Any] = {"status": "failed", "limit": 200} | (
                {"cursor": cursor} if cursor else {}
            )
            page = client.get("/v1/documents", params=params).json()
            for item in page["items"]:
                r = client.post(f"/v1/documents/{item['id']}/retry")
                retried.append({"id": item["id"], "error": item["error"], "retry": r.status_code})
            cursor = page["next_cursor"]
            if not cursor:
                break
    emit(retried, as_json=as_json, columns=["id", "error", "retry"], title="retried")


@app.command()
def reindex(
    stale: bool = typer.Option(False, help="Only documents indexed with an older dictionary"),
) -> None:
    """Rebuild the search index from the database (alias/directory swap: no downtime)."""
    from cli.admin_cmds import reindex as run_reindex

    emit(run_reindex(stale_only=stale), as_json=True)


@keys_app.command("create")
def keys_create(name: str = typer.Argument(..., help="Who or what the key is for")) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    from shared.api_keys import create_key
    from shared.db import session_scope
    from shared.settings import get_settings

    with session_scope(get_settings().resolved_database_url, write=True) as session:
        row, key = create_key(session, name)
    typer.echo(f"id {row.id}  prefix {row.prefix}\n{key}")


@keys_app.command("list")
def keys_list(as_json: bool = JSON) -> None:
    """List keys (never the keys themselves)."""
    from shared.api_keys import list_keys
    from shared.db import session_scope
    from shared.settings import get_settings

    with session_scope(get_settings().resolved_database_url) as session:
        rows = [
            {
                "id": k.id,
                "name": k.name,
                "prefix": k.prefix,
                "created_at": k.created_at,
                "revoked_at": k.revoked_at,
            }
            for k in list_keys(session)
        ]
    emit(rows, as_json=as_json, columns=["id", "name", "prefix", "created_at", "revoked_at"])


@keys_app.command("revoke")
def keys_revoke(key: str = typer.Argument(..., help="Key id or prefix")) -> None:
    """Revoke a key at once."""
    from shared.api_keys import revoke_key
    from shared.db import session_scope
    from shared.settings import get_settings

    with session_scope(get_settings().resolved_database_url, write=True) as session:
        row = revoke_key(session, key)
    if row is None:
        typer.echo("no such key", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {row.id} ({row.name})")


@sources_app.command("add")
def sources_add(
    url: str,
    every_hours: float = typer.Option(6.0, help="Polling interval"),
    pattern: str | None = typer.Option(None, help="Regex article links must match"),
    as_json: bool = JSON,
) -> None:
    """Watch a listing page or an RSS/Atom feed."""
    from cli.client import ingest_client

    body = {"url": url, "interval_seconds": int(every_hours * 3600), "link_pattern": pattern}
    with ingest_client() as client:
        r = client.post("/v1/sources", json=body)
    if r.status_code != 201:
        typer.echo(r.json().get("detail", r.text), err=True)
        raise typer.Exit(1)
    emit(r.json(), as_json=as_json, columns=["id", "url", "interval_seconds", "next_run_at"])


@sources_app.command("list")
def sources_list(as_json: bool = JSON) -> None:
    """Watched sources with their last run."""
    from cli.client import ingest_client

    with ingest_client() as client:
        items = client.get("/v1/sources").json()["items"]
    emit(
        items,
        as_json=as_json,
        columns=["id", "url", "last_run_at", "last_status", "links_found", "documents_created"],
    )


@app.command()
def bench(
    docs: int = typer.Option(2000, help="Documents in the pipeline benchmark"),
    quick: bool = typer.Option(False, help="Small sizes, for a smoke run"),
) -> None:
    """Benchmarks: stage ceiling, pipeline, ingest latency, search, footprint."""
    from bench.run import main as run_bench

    raise typer.Exit(run_bench(docs=docs, quick=quick))


def _bootstrap_key(settings: Settings) -> None:
    """On a first local run, create one API key so writes work, and say where it is."""
    from shared.api_keys import any_active_key, create_key
    from shared.db import session_scope

    if not (settings.require_api_key and settings.bootstrap_api_key):
        return
    path = settings.data_dir / "local-api-key"
    with session_scope(settings.resolved_database_url, write=True) as session:
        if any_active_key(session):
            if path.exists():
                typer.echo(f"API key for write requests: in {path}")
            return
        _, key = create_key(session, "local (created by `policy-search run`)")
    path.write_text(key + "\n")
    path.chmod(0o600)
    typer.echo(f"Created an API key for write requests; it is in {path} (send it as X-API-Key)")


if __name__ == "__main__":
    app()
