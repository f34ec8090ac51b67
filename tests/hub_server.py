"""A Hugging-Face-compatible hub on 127.0.0.1 for tests: the endpoints ``huggingface_hub.snapshot_download`` calls.

``/api/models/{repo}[/revision/{rev}]`` (repo info with ``siblings``; sizes, blob ids and LFS hashes with
``?blobs=true``), ``/api/models/{repo}/tree/{rev}`` (the recursive listing) and ``/{repo}/resolve/{rev}/{file}``
(HEAD and GET with ``X-Repo-Commit``, ``ETag`` and ``Content-Length``, as ``hf_hub_download`` reads them). Plain
files under ``/releases/`` stand in for a non-hub release server. Every request path is kept in ``requests``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".msgpack", ".h5", ".onnx")


class FakeHub:
    """Repos as {path: bytes}; ``gated`` repos answer 401 GatedRepo without a matching ``token``."""

    def __init__(self, token: str = "hf_test") -> None:
        self.repos: dict[str, dict[str, bytes]] = {}
        self.releases: dict[str, bytes] = {}
        self.gated: set[str] = set()
        self.token = token
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    def add_folder(self, repo: str, folder: Path) -> None:
        files = self.repos.setdefault(repo, {})
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                files[path.relative_to(folder).as_posix()] = path.read_bytes()

    def commit(self, repo: str) -> str:
        digest = hashlib.sha1(repo.encode())
        for name, data in sorted(self.repos[repo].items()):
            digest.update(name.encode() + hashlib.sha1(data).digest())
        return digest.hexdigest()

    def start(self) -> str:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                hub._answer(self, body=False)

            def do_GET(self) -> None:
                hub._answer(self, body=True)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _file_json(self, name: str, data: bytes) -> dict[str, object]:
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        entry: dict[str, object] = {"size": len(data), "blob": blob}
        if name.endswith(LFS_SUFFIXES):
            entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 130}
        return entry

    def _answer(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        url = urlsplit(handler.path)
        path = unquote(url.path)
        self.requests.append(path)
        if path.startswith("/releases/"):
            data = self.releases.get(path.removeprefix("/releases/"))
            return self._send(handler, 200 if data is not None else 404, data or b"not found", body)
        api = path.startswith("/api/models/")
        parts = path.removeprefix("/api/models/").strip("/").split("/") if api else path.strip("/").split("/")
        repo = "/".join(parts[:2])
        if repo not in self.repos:
            return self._send(handler, 404, b'{"error": "Repository not found"}', body, {"X-Error-Code": "RepoNotFound"})
        if repo in self.gated and handler.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(handler, 401, b'{"error": "Access to this repo is restricted"}', body,
                              {"X-Error-Code": "GatedRepo"})
        files, commit = self.repos[repo], self.commit(repo)
        if api and len(parts) >= 4 and parts[2] == "tree":
            listing = []
            for name, data in sorted(files.items()):
                meta = self._file_json(name, data)
                item = {"type": "file", "path": name, "size": meta["size"], "oid": meta["blob"]}
                if "lfs" in meta:
                    lfs = meta["lfs"]
                    item["lfs"] = {"oid": lfs["sha256"], "size": lfs["size"], "pointerSize": 130}  # type: ignore
                listing.append(item)
            return self._send(handler, 200, json.dumps(listing).encode(), body)
        if api:
            blobs = "blobs=true" in url.query.lower()
            siblings = []
            for name, data in sorted(files.items()):
                meta = self._file_json(name, data)
                sibling: dict[str, object] = {"rfilename": name}
                if blobs:
                    sibling.update(size=meta["size"], blobId=meta["blob"], lfs=meta.get("lfs"))
                siblings.append(sibling)
            info = {"id": repo, "modelId": repo, "sha": commit, "private": False, "siblings": siblings}
            return self._send(handler, 200, json.dumps(info).encode(), body)
        if len(parts) >= 5 and parts[2] == "resolve":
            name = "/".join(parts[4:])
            if name not in files:
                return self._send(handler, 404, b"entry not found", body,
                                  {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit})
            meta = self._file_json(name, files[name])
            etag = meta["lfs"]["sha256"] if "lfs" in meta else meta["blob"]  # type: ignore[index]
            return self._send(handler, 200, files[name], body, {"ETag": f'"{etag}"', "X-Repo-Commit": commit})
        return self._send(handler, 404, b"unknown endpoint", body)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, data: bytes, body: bool,
              headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if body:
            handler.wfile.write(data)
