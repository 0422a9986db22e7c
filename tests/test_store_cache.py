"""store/cache.py: the token cache botocore and the AWS CLI share."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest
from botocore.utils import JSONFileCache, generate_login_cache_key

from awslogin.errors import CacheError
from awslogin.store import cache

SESSION = "arn:aws:sts::123456789012:assumed-role/Admin/alice"


def token(**extra) -> dict:
    data = {
        "accessToken": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s3cr3t",
                        "sessionToken": "tok", "accountId": "123456789012",
                        "expiresAt": "2030-01-01T00:00:00Z"},
        "tokenType": "aws_sigv4",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "refreshToken": "refresh",
        "idToken": "id",
        "dpopKey": "-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----\n",
    }
    data.update(extra)
    return data


def test_paths(aws_home) -> None:
    assert cache.cache_dir() == aws_home.cache_dir
    digest = hashlib.sha256(SESSION.encode()).hexdigest()
    assert cache.cache_path(SESSION) == aws_home.cache_dir / f"{digest}.json"
    assert cache.cache_key(SESSION) == generate_login_cache_key(SESSION)


def test_default_dir(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("AWS_LOGIN_CACHE_DIRECTORY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / ".aws" / "login" / "cache"


def test_save_load_roundtrip_modes(aws_home) -> None:
    assert cache.load_token(SESSION) is None
    cache.save_token(SESSION, token(signinEndpoint="http://127.0.0.1:1", clockOffset=-3.5))
    assert cache.load_token(SESSION) == token(signinEndpoint="http://127.0.0.1:1",
                                              clockOffset=-3.5)
    assert stat.S_IMODE(cache.cache_path(SESSION).stat().st_mode) == 0o600
    assert stat.S_IMODE(aws_home.cache_dir.stat().st_mode) == 0o700


def test_save_tightens_loose_dir_and_file(aws_home) -> None:
    aws_home.cache_dir.mkdir(parents=True)
    os.chmod(aws_home.cache_dir, 0o755)
    path = cache.cache_path(SESSION)
    path.write_text("{}")
    os.chmod(path, 0o644)
    cache.save_token(SESSION, token())
    assert stat.S_IMODE(aws_home.cache_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_botocore_reads_what_awslogin_writes(aws_home) -> None:
    cache.save_token(SESSION, token(signinEndpoint="http://x"))
    botocore_cache = JSONFileCache(str(aws_home.cache_dir))
    assert botocore_cache[generate_login_cache_key(SESSION)] == token(signinEndpoint="http://x")


def test_awslogin_reads_what_botocore_writes(aws_home) -> None:
    botocore_cache = JSONFileCache(str(aws_home.cache_dir))
    botocore_cache[generate_login_cache_key(SESSION)] = token()
    assert cache.load_token(SESSION) == token()


@pytest.mark.parametrize("content, words", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b"\xff\xfe", "not valid JSON"),
    (json.dumps({k: v for k, v in token().items() if k != "dpopKey"}).encode(), "dpopKey"),
    (json.dumps({"accessToken": {}}).encode(), "refreshToken, clientId, dpopKey"),
])
def test_bad_cache_names_file_and_is_left_alone(aws_home, content, words) -> None:
    path = cache.cache_path(SESSION)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(CacheError) as err:
        cache.load_token(SESSION)
    message = str(err.value)
    assert str(path) in message and words in message and "Run awslogin login" in message
    assert "`" not in message  # plain words, like every other message
    assert path.read_bytes() == content
    assert "s3cr3t" not in message


def test_delete_token(aws_home) -> None:
    assert cache.delete_token(SESSION) is False
    cache.save_token(SESSION, token())
    assert cache.delete_token(SESSION) is True
    assert not cache.cache_path(SESSION).exists()


def test_delete_all_tokens_only_login_tokens(aws_home) -> None:
    cache.save_token(SESSION, token())
    cache.save_token("arn:aws:iam::123456789012:user/bob", token())
    aws_home.cache_dir.joinpath("other.json").write_text(json.dumps({"accessToken": "str"}))
    aws_home.cache_dir.joinpath("bad.json").write_text("{")
    aws_home.cache_dir.joinpath("note.txt").write_text("keep")
    deleted = cache.delete_all_tokens()
    assert sorted(deleted) == sorted([cache.cache_path(SESSION),
                                      cache.cache_path("arn:aws:iam::123456789012:user/bob")])
    assert sorted(p.name for p in aws_home.cache_dir.iterdir()) == [
        "bad.json", "note.txt", "other.json"]


def test_delete_all_tokens_without_dir(aws_home) -> None:
    assert cache.delete_all_tokens() == []


def test_store_imports_nothing_heavy(aws_home) -> None:
    """credential-process loads store.config and store.cache on its hot path."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import awslogin.store.config, awslogin.store.cache, awslogin.store.lock\n"
        "heavy = ['botocore', 'cryptography', 'filelock', 'urllib3', 'http.client',\n"
        "         'urllib.request', 'requests', 'awslogin.signin', 'awslogin.dpop']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=aws_home.env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == ""


def test_load_tightens_loose_dir_and_file(aws_home) -> None:
    cache.save_token(SESSION, token())
    path = cache.cache_path(SESSION)
    os.chmod(path, 0o644)
    os.chmod(aws_home.cache_dir, 0o755)
    assert cache.load_token(SESSION) == token()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(aws_home.cache_dir.stat().st_mode) == 0o700


def test_load_leaves_a_symlinked_dir_alone(aws_home, tmp_path) -> None:
    real = tmp_path / "real-cache"
    real.mkdir(mode=0o755)
    os.chmod(real, 0o755)
    aws_home.cache_dir.parent.mkdir(parents=True)
    aws_home.cache_dir.symlink_to(real)
    assert cache.load_token(SESSION) is None
    cache.tighten_dir(aws_home.cache_dir)
    assert stat.S_IMODE(real.stat().st_mode) == 0o755
