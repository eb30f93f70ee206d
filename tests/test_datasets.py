import functools
import hashlib
import http.server
import json
import threading

import pytest

from tuna import datasets
from tuna.errors import TunaError


def test_demo_set_is_varied_alpaca_format():
    records = datasets.load_alpaca(datasets.DEMO)
    assert len(records) >= 36
    assert sum(bool(r.input) for r in records) >= 10  # instructions with inputs
    assert all(r.output for r in records)  # reference responses for the MLE term
    assert len({r.id for r in records}) == len(records)


def test_ids_are_stable_and_duplicates_distinct(tmp_path):
    rows = [{"instruction": "Say hi.", "input": "", "output": "hi"}] * 2 + [
        {"instruction": "Add.", "input": "1 2", "output": "3"}]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(rows))
    first = datasets.load_alpaca(path)
    assert [r.id for r in first] == [r.id for r in datasets.load_alpaca(path)]
    assert first[1].id == first[0].id + "-2"
    path.write_text(json.dumps(rows[::-1]))
    assert datasets.load_alpaca(path)[0].id == first[2].id  # content, not position


@pytest.mark.parametrize("content, message", [
    ('[{"instruction": "x", "output": 3}]', "bad.json:1: field 'output' must be a string"),
    ('[\n  {"instruction": "x"},\n  {"instruction": "y"},\n\n  {"input": "x"}\n]',
     "bad.json:5: field 'instruction' is missing"),  # the 1-based line the record starts on
    ('{"instruction": "x"}', "expected a JSON array"),
    ('[{"instruction": "x"},\n oops]', ":2: not valid JSON"),
])
def test_bad_alpaca_json(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(TunaError, match=message.replace("(", r"\(").replace(")", r"\)")):
        datasets.load_alpaca(path)


def test_real_upstream_alpaca_head(shared_data):
    records = datasets.load_alpaca(shared_data / "alpaca" / "alpaca_data_head.json")
    assert len(records) == 100
    assert records[0].instruction == "Give three tips for staying healthy."


def provenance_blob_ids(shared_data):
    rows = (line.split("\t") for line in (shared_data / "PROVENANCE.tsv").read_text().splitlines()
            if not line.startswith("#"))
    return {row[0]: row[2] for row in rows if len(row) > 2 and len(row[2]) == 40}


def test_git_blob_sha1_matches_upstream_ids(shared_data):
    blob_ids = provenance_blob_ids(shared_data)
    assert len(blob_ids) >= 40
    for local, blob in list(blob_ids.items())[:10]:
        assert datasets.git_blob_sha1((shared_data / local).read_bytes()) == blob
        datasets.verify_checksum(shared_data / local, git_sha1=blob)


def test_checksum_mismatch_is_refused(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("hello\n")
    good = hashlib.sha256(b"hello\n").hexdigest()
    assert datasets.verify_checksum(path, sha256_hex=good) == good
    with pytest.raises(TunaError, match="does not match the pinned"):
        datasets.verify_checksum(path, sha256_hex="0" * 64)
    with pytest.raises(TunaError, match="git blob sha1"):
        datasets.verify_checksum(path, git_sha1="0" * 40)


@pytest.fixture
def http_root(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_verifies_before_keeping(http_root, tmp_path):
    root, url = http_root
    (root / "data.json").write_text('[{"instruction": "x"}]')
    blob = datasets.git_blob_sha1((root / "data.json").read_bytes())
    out = tmp_path / "dl" / "data.json"
    datasets.download(f"{url}/data.json", out, git_sha1=blob)
    assert out.read_text() == '[{"instruction": "x"}]'

    bad_out = tmp_path / "dl" / "tampered.json"
    with pytest.raises(TunaError, match="does not match"):
        datasets.download(f"{url}/data.json", bad_out, sha256_hex="f" * 64)
    assert sorted(p.name for p in out.parent.iterdir()) == ["data.json"]  # nothing partial left

    with pytest.raises(TunaError, match="download failed"):
        datasets.download(f"{url}/missing.json", tmp_path / "m.json")
