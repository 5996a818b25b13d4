"""SMB endpoints: file handles, close, sessions, share-mode / byte-range locks, file attributes."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from qlocks_tools.simulator import records as r
from qlocks_tools.simulator import render
from qlocks_tools.simulator.api import ApiError, PageRequest, Request, Router, page_request, parse_bool
from qlocks_tools.simulator.paging import Key, SortedKeys, paging, slice_after
from qlocks_tools.simulator.state import ClusterState

logger = logging.getLogger(__name__)

READ_HANDLES = "PRIVILEGE_SMB_FILE_HANDLE_READ"
WRITE_HANDLES = "PRIVILEGE_SMB_FILE_HANDLE_WRITE"
READ_SESSIONS = "PRIVILEGE_SMB_SESSION_READ"
WRITE_SESSIONS = "PRIVILEGE_SMB_SESSION_WRITE"
READ_LOCKS = "PRIVILEGE_FS_LOCK_READ"
READ_ATTRIBUTES = ("PRIVILEGE_FS_ATTRIBUTES_READ", "PRIVILEGE_FILE_FULL_ACCESS")


def _attributes_allowed(state: ClusterState, req: Request) -> None:
    """Attributes are readable through the file's ACL (``attributes_by_file_access``) or a privilege that
    overrides it. A refusal is an ACL denial: 403 ``fs_access_denied_error`` that does not name the privilege
    (a cluster checking file permissions has no single privilege to name), so clients must know it themselves."""
    if state.attributes_by_file_access:
        return
    account = req.account
    if account is not None and account.privileges.intersection(READ_ATTRIBUTES):
        return
    raise ApiError(403, "Access denied", "fs_access_denied_error")


def _keys_after(src: SortedKeys | list[int], key: Key | None, count: int) -> tuple[list[Any], bool]:
    return src.after(key, count) if isinstance(src, SortedKeys) else slice_after(src, key, count)


def _file_number(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise ApiError(400, f"file_number must be a file ID (an unsigned integer), got {value!r}")
    return int(value)


def _file_for_ref(state: ClusterState, ref: str) -> r.FileRec | None:
    """A file by ID or absolute path. Raises 404 unless it is a file or a known directory (then None)."""
    if not ref.isdigit() and not ref.startswith("/"):
        raise ApiError(400, f"Path must be absolute: {ref!r}")
    f = state.file_by_ref(ref)
    if f is not None:
        return f
    if _dir_for_ref(state, ref) is not None:
        return None
    raise ApiError(404, f"No such file or directory: {ref}", "fs_no_such_entry_error")


def _dir_for_ref(state: ClusterState, ref: str) -> tuple[str, int] | None:
    with state.lock:
        if ref.isdigit():
            number = int(ref)
            return next(((p, n) for p, n in state.dirs.items() if n == number), None)
        path = ref.rstrip("/") or "/"
        return (path, state.dirs[path]) if path in state.dirs else None


def _grant_source(state: ClusterState, pr: PageRequest, file_ref: str | None) -> SortedKeys | list[int]:
    if file_ref is not None:
        f = _file_for_ref(state, file_ref)
        return f.handles if f is not None else []
    address = pr.params.get("owner_address")
    if address is not None:  # matched as the grants write it (``addresses`` knob): no normalising here
        ip = state.originator_of(address)
        return state.by_ip.get(ip, []) if ip is not None else []
    return state.handle_keys


def _share_mode_page(
    state: ClusterState, pr: PageRequest, file_ref: str | None
) -> tuple[list[bytes], Key, bool]:
    src = _grant_source(state, pr, file_ref)
    keys, more = _keys_after(src, pr.after.key if pr.after else None, pr.count)
    grants = state.fragments.grants(keys, state.handles, state.sessions)
    return grants, keys[-1] if keys else None, more


def _byte_range_page(
    state: ClusterState, pr: PageRequest, file_ref: str | None
) -> tuple[list[bytes], Key, bool]:
    """Byte-range grants, keyed ``(handle seq, lock index)``; handles without byte-range locks are skipped."""
    src: SortedKeys | list[int] = state.byte_range_keys
    if file_ref is not None or "owner_address" in pr.params:
        src = _grant_source(state, pr, file_ref)
    after: tuple[int, int] | None = pr.after.key if pr.after else None
    grants: list[bytes] = []
    last: Key = None
    cursor: int | None = None if after is None else after[0] - 1
    while True:
        keys, more = _keys_after(src, cursor, 256)
        for seq in keys:
            h = state.handles[seq]
            for i in range(len(h.byte_ranges)):
                if after is not None and (seq, i) <= after:
                    continue
                if len(grants) == pr.count:
                    return grants, last, True
                sess = state.sessions[h.session]
                owner = state.hostnames.get(sess.originator, sess.originator)
                grants.append(
                    json.dumps(r.byte_range_grant_json(h, sess, i, owner), ensure_ascii=False).encode()
                )
                last = (seq, i)
        if not more:
            return grants, last, False
        cursor = keys[-1]


def _locks(state: ClusterState, req: Request, kind: str, file_ref: str | None) -> render.RawJson:
    listing = f"{kind}:{file_ref}" if file_ref is not None else kind
    pr = page_request(
        state, req, listing, () if file_ref is not None else ("owner_address",), pair_key=kind == "byte-range"
    )
    page: Callable[..., tuple[list[bytes], Key, bool]] = (
        _share_mode_page if kind == "share-mode" else _byte_range_page
    )
    with state.lock:
        grants, last, more = page(state, pr, file_ref)
    if state.lock_listings_never_end and not more:  # like clusters whose lock listings never send null
        start: Key = (-1, -1) if kind == "byte-range" else -1
        last, more = last if last is not None else (pr.after.key if pr.after else start), True
    link = req.link_base(state, lock_listing=True)
    return render.listing("grants", grants, paging(link, listing, last, more, pr.limit, pr.params))


def _close_items(body: Any, what: str, get: Callable[[dict[str, Any]], Any]) -> list[str]:
    if not isinstance(body, list):
        raise ApiError(400, f"Request body must be a JSON array of {what}")
    locations = []
    for i, item in enumerate(body):
        loc = get(item) if isinstance(item, dict) else None
        if not isinstance(loc, str):
            raise ApiError(400, f"Item {i} of the request body has no string location")
        locations.append(loc)
    return locations


def _close_reply(shape: str, results: list[dict[str, str]], sent: list[str]) -> Any:
    """The close reply in the shape ``Knobs.close_reply`` asks for (``results``: one entry per location)."""
    if shape == "empty":
        return []
    if shape == "other-location":
        other = next(f"{n}.{n}.{n}" for n in range(9, 10**6) if f"{n}.{n}.{n}" not in sent)
        return [{"error_message": f"SMB file handle not found: no open handle at location {other!r}"}]
    if shape == "garbage":
        return {"status": "done", "closed": len(sent)}
    return results


def register(router: Router) -> None:
    @router.add("GET", r"/v1/smb/files/", READ_HANDLES, churns=True)
    def list_files(state: ClusterState, req: Request) -> Any:
        pr = page_request(state, req, "files", ("file_number", "resolve_paths"))
        resolve = parse_bool("resolve_paths", pr.params.get("resolve_paths"))
        number = _file_number(pr.params.get("file_number"))
        with state.lock:
            src: SortedKeys | list[int] = state.handle_keys
            if number is not None:
                f = state.files.get(number)
                src = f.handles if f is not None else []
            keys, more = _keys_after(src, pr.after.key if pr.after else None, pr.count)
            frags = state.fragments
            if resolve:
                out = frags.handles(keys, state.handles, state.sessions, state.files)
            else:
                out = frags.unresolved_handles(keys, state.handles, state.sessions)
        last = keys[-1] if keys else None
        link = req.link_base(state, lock_listing=False)
        return render.listing("file_handles", out, paging(link, "files", last, more, pr.limit, pr.params))

    @router.add("POST", r"/v1/smb/files/close", WRITE_HANDLES)
    def close_files(state: ClusterState, req: Request) -> Any:
        def location(item: dict[str, Any]) -> Any:
            info = item.get("handle_info")
            return info.get("location") if isinstance(info, dict) else None

        locations = _close_items(req.body, "file handles", location)
        results = []
        for loc in locations:
            error = "" if state.close_noop and state.handle_by_location(loc) else state.close_handle(loc)
            if not error and not state.close_noop:
                logger.info("closed SMB file handle %s", loc)
            results.append({"error_message": error})
        return _close_reply(state.close_reply, results, locations)

    @router.add("GET", r"/v1/smb/sessions/", READ_SESSIONS, churns=True)
    def list_sessions(state: ClusterState, req: Request) -> Any:
        from qlocks_tools.simulator.api_identity import identity_matcher

        pr = page_request(state, req, "sessions", ("identity",))
        matches = identity_matcher(pr.params["identity"]) if "identity" in pr.params else None
        with state.lock:
            src: SortedKeys | list[int] = state.session_keys
            if matches is not None:
                src = [
                    k
                    for k in state.session_keys.as_list()
                    if matches(state.identities[state.sessions[k].auth_id])
                ]
            keys, more = _keys_after(src, pr.after.key if pr.after else None, pr.count)
            now = state.clock()
            out = [
                r.session_json(s, state.identities[s.auth_id], now)
                for s in map(state.sessions.__getitem__, keys)
            ]
        return {
            "session_infos": out,
            "paging": paging(
                req.link_base(state, lock_listing=False),
                "sessions",
                keys[-1] if keys else None,
                more,
                pr.limit,
                pr.params,
            ),
        }

    @router.add("POST", r"/v1/smb/sessions/close", WRITE_SESSIONS)
    def close_sessions(state: ClusterState, req: Request) -> Any:
        locations = _close_items(req.body, "sessions", lambda item: item.get("location"))
        return [{"error_message": state.close_session(loc)} for loc in locations]

    @router.add("GET", r"/v1/files/locks/smb/(share-mode|byte-range)/", READ_LOCKS, churns=True)
    def list_locks(state: ClusterState, req: Request) -> Any:
        return _locks(state, req, req.groups[0], None)

    @router.add("GET", r"/v1/files/([^/]+)/locks/smb/(share-mode|byte-range)/", READ_LOCKS, churns=True)
    def list_file_locks(state: ClusterState, req: Request) -> Any:
        return _locks(state, req, req.groups[1], req.groups[0])

    @router.add("GET", r"/v1/files/([^/]+)/info/attributes", None)
    def attributes(state: ClusterState, req: Request) -> Any:
        _attributes_allowed(state, req)
        ref = req.groups[0]
        f = _file_for_ref(state, ref)
        if f is None:
            found = _dir_for_ref(state, ref)
            assert found is not None
            return r.dir_attributes_json(*found)
        with state.lock:
            owner = None
            if f.handles:
                h = state.handles[f.handles[0]]
                owner = state.identities.get(state.sessions[h.session].auth_id)
            return r.attributes_json(f, owner)

    @router.add("POST", r"/v1/files/resolve", None)
    def resolve_paths(state: ClusterState, req: Request) -> Any:
        if not isinstance(req.body, list) or not all(isinstance(i, str) for i in req.body):
            raise ApiError(400, "Request body must be a JSON array of file IDs")
        out = []
        for ref in req.body:
            f = state.file_by_ref(ref) if ref.isdigit() else None
            out.append({"id": ref, "path": f.path if f else ""})
        return out
