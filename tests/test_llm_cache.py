"""The request cache: stable keys, persistence, and concurrent writers from several processes."""

import multiprocessing

from tuna.llm.cache import RequestCache, request_key


def test_key_depends_on_every_field_but_not_on_order():
    base = {"model": "m", "prompt": "p", "seed": 1, "sample": 0}
    assert request_key(base) == request_key(dict(reversed(list(base.items()))))
    assert request_key(base) != request_key({**base, "seed": 2})
    assert request_key(base) != request_key({**base, "sample": 1})


def test_answers_persist_across_connections(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = RequestCache(path)
    cache.put("k", {"q": 1}, {"text": "hi"})
    cache.close()
    again = RequestCache(path)
    assert again.get_many(["k", "missing"]) == {"k": {"text": "hi"}}


def _writer(path, worker, count):
    cache = RequestCache(path)
    for i in range(count):
        cache.put(f"{worker}-{i}", {"worker": worker}, {"i": i})
    cache.close()


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "shared.sqlite"
    RequestCache(path).close()
    procs = [multiprocessing.get_context("spawn").Process(target=_writer, args=(path, w, 200)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = RequestCache(path)
    assert len(cache) == 800
    assert cache.get_many(["3-199"]) == {"3-199": {"i": 199}}
