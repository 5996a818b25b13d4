"""Domain records for renderer tests (the real dataclasses, with plausible defaults)."""

from __future__ import annotations

from bot.locks.models import FileGroup, HandleRef, LockRow, Query, QueryKind, SearchResult

NOW = 1_750_000_000.0


def make_row(
    path: str = "/projects/q3/forecast.xlsx",
    *,
    location: str = "loc-1",
    file_number: str = "7340102",
    owner: str = "8589934593",
    holder: str = "dana",
    client_ip: str | None = "10.1.2.3",
    client_host: str | None = "laptop-42",
    access: tuple[str, ...] = ("read", "write"),
    share_mode: tuple[str, ...] = ("read",),
    node: str | None = "10.0.0.1",
    idle: float | None = 3600.0,
    note: str | None = None,
) -> LockRow:
    return LockRow(
        ref=HandleRef(location=location, file_number=file_number, owner=owner, path=path),
        holder=holder,
        client_ip=client_ip,
        client_host=client_host,
        access=access,
        share_mode=share_mode,
        node=node,
        session_open_s=7200.0,
        session_idle_s=idle,
        note=note,
    )


def make_result(
    groups: list[tuple[str, list[LockRow]]] | None = None,
    *,
    text: str = "forecast",
    cluster: str = "qumulo-prod",
    share: str | None = "Finance",
    **kw: object,
) -> SearchResult:
    groups = groups if groups is not None else [("/projects/q3/forecast.xlsx", [make_row()])]
    files = tuple(
        FileGroup(
            file_number=rows[0].ref.file_number if rows else str(i),
            path=path,
            share=share,
            share_path=path,
            rows=tuple(rows),
        )
        for i, (path, rows) in enumerate(groups)
    )
    return SearchResult(
        query=Query(kind=QueryKind.FRAGMENT, value=text, text=text),
        files=files,
        cluster=cluster,
        as_of=NOW - 12,
        scanned_handles=40_000,
        **kw,  # type: ignore[arg-type]
    )


def many_rows(n_files: int, per_file: int) -> list[tuple[str, list[LockRow]]]:
    return [
        (
            f"/share/dir{f}/file{f}.docx",
            [
                make_row(
                    f"/share/dir{f}/file{f}.docx",
                    location=f"loc-{f}-{r}",
                    file_number=str(1000 + f),
                    holder=f"u{r}",
                )
                for r in range(per_file)
            ],
        )
        for f in range(n_files)
    ]
