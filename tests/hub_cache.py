"""A Hugging Face Hub cache laid out exactly as huggingface_hub writes it, built from local files.

    {type}s--{org}--{name}/blobs/{hash}                  each file's content
    {type}s--{org}--{name}/snapshots/{commit}/{path}     relative symlinks to the blobs
    {type}s--{org}--{name}/refs/{branch}                 the commit a branch points to

so tests can fetch `hf:` locations with HF_HUB_OFFLINE=1 and no network. The commit of a
snapshot is derived from its files, so different files make a different commit.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def repo_folder(cache: Path, repo_id: str, repo_type: str = "model") -> Path:
    return cache / f"{repo_type}s--{repo_id.replace('/', '--')}"


def add_snapshot(cache: Path, repo_id: str, files: dict[str, Path], repo_type: str = "model",
                 branch: str = "main") -> str:
    """Store `files` (path in the repository -> local file) as one commit and point `branch` at it."""
    folder = repo_folder(cache, repo_id, repo_type)
    (folder / "blobs").mkdir(parents=True, exist_ok=True)
    commit, blobs = hashlib.sha1(repo_id.encode()), {}
    for name, source in sorted(files.items()):
        data = source.read_bytes()
        blobs[name] = hashlib.sha256(data).hexdigest()
        (folder / "blobs" / blobs[name]).write_bytes(data)
        commit.update(f"{name}\0{blobs[name]}\0".encode())
    snapshot = folder / "snapshots" / commit.hexdigest()
    for name, blob in blobs.items():
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(os.path.relpath(folder / "blobs" / blob, link.parent))
    move_branch(cache, repo_id, commit.hexdigest(), repo_type, branch)
    return commit.hexdigest()


def add_directory(cache: Path, repo_id: str, directory: Path, repo_type: str = "model", branch: str = "main") -> str:
    """Every file of `directory` as one commit of `repo_id` (a checkpoint pushed to the Hub)."""
    files = {str(path.relative_to(directory)): path for path in directory.rglob("*") if path.is_file()}
    return add_snapshot(cache, repo_id, files, repo_type, branch)


def move_branch(cache: Path, repo_id: str, commit: str, repo_type: str = "model", branch: str = "main") -> None:
    refs = repo_folder(cache, repo_id, repo_type) / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    (refs / branch).write_text(commit)
