"""Action sources become deterministic zips: same source, same bytes, whatever the checkout."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from deploy.bundle import CHUNK, EXEC_LIMIT, build_artifact
from deploy.errors import BundleError
from deploy.models import ActionSpec


def action(function: Path | None = None, **fields) -> ActionSpec:
    return ActionSpec(
        package=None,
        name="hello",
        runtime=fields.pop("runtime", "python:3.11"),
        function=function,
        **fields,
    )


def make_folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def read(data: bytes, name: str) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read(name).decode()


SOURCE = {
    "__main__.py": "from helper import greet\ndef main(a):\n    return greet(a)\n",
    "helper.py": "def greet(a):\n    return a\n",
    "data/words.txt": "hello\n",
}


class TestDeterminism:
    def test_two_copies_with_different_mtimes_and_modes_give_identical_bytes(self, tmp_path):
        first = make_folder(tmp_path / "one", SOURCE)
        # Written in reverse order, different times and permissions: none of it may show.
        second = make_folder(tmp_path / "two", dict(reversed(list(SOURCE.items()))))
        for index, path in enumerate(sorted(p for p in second.rglob("*") if p.is_file())):
            os.utime(path, (1_000_000 + index, 2_000_000_000 + index))
            path.chmod(0o600 if index % 2 else 0o755)
        a, b = build_artifact(action(first)), build_artifact(action(second))
        assert a.data == b.data
        assert a.sha256 == b.sha256 == hashlib.sha256(a.data).hexdigest()
        assert a.binary is True

    def test_entries_are_sorted_with_fixed_time_mode_and_no_extra_fields(self, tmp_path):
        artifact = build_artifact(action(make_folder(tmp_path / "src", SOURCE)))
        infos = zipfile.ZipFile(io.BytesIO(artifact.data)).infolist()
        assert [i.filename for i in infos] == ["__main__.py", "data/words.txt", "helper.py"]
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.extra == b""

    def test_caches_and_vcs_files_are_never_shipped(self, tmp_path):
        folder = make_folder(
            tmp_path / "src",
            {
                **SOURCE,
                "__pycache__/helper.cpython-311.pyc": "x",
                "old.pyc": "x",
                ".git/HEAD": "x",
                ".DS_Store": "x",
                "pkg/.DS_Store": "x",
            },
        )
        assert names(build_artifact(action(folder)).data) == [
            "__main__.py",
            "data/words.txt",
            "helper.py",
        ]


class TestSources:
    def test_a_single_py_file_is_zipped_as_main(self, tmp_path):
        source = tmp_path / "hello.py"
        source.write_text("def main(a):\n    return a\n")
        artifact = build_artifact(action(source, runtime="python:default"))
        assert names(artifact.data) == ["__main__.py"]
        assert read(artifact.data, "__main__.py") == source.read_text()

    def test_inline_code_is_sent_as_text(self):
        artifact = build_artifact(action(code="def main(a): return a"))
        assert (artifact.data, artifact.binary) == (b"def main(a): return a", False)
        assert artifact.sha256 == hashlib.sha256(b"def main(a): return a").hexdigest()

    def test_a_given_zip_is_sent_unchanged(self, tmp_path):
        source = tmp_path / "built.zip"
        source.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
        artifact = build_artifact(action(source))
        assert (artifact.data, artifact.binary) == (source.read_bytes(), True)

    def test_a_folder_without_main_py_is_refused_with_the_fix(self, tmp_path):
        folder = make_folder(tmp_path / "src", {"handler.py": "def main(a): return a\n"})
        with pytest.raises(BundleError) as caught:
            build_artifact(action(folder))
        assert str(caught.value) == (
            f"action hello: expected __main__.py at the root of {folder}, found none (hint: the Python"
            " runtime runs __main__.py from the zip; rename the entry file or point function: at the file itself)"
        )

    def test_a_missing_source_is_refused(self, tmp_path):
        with pytest.raises(BundleError) as caught:
            build_artifact(action(tmp_path / "gone"))
        assert (
            str(caught.value)
            == f"action hello: expected {tmp_path / 'gone'} to exist, found nothing there"
        )


class TestIncludeExclude:
    def test_exclude_globs_drop_files_and_whole_folders(self, tmp_path):
        folder = make_folder(tmp_path / "src", {**SOURCE, "tests/test_x.py": "", "notes.md": ""})
        # Patterns are resolved against the manifest's folder (here tmp_path), as in wskdeploy.
        exclude = tuple(str(tmp_path / p) for p in ("src/tests", "src/*.md", "src/data/*.txt"))
        artifact = build_artifact(action(folder, exclude=exclude))
        assert names(artifact.data) == ["__main__.py", "helper.py"]

    def test_exclude_is_relative_to_the_manifest_folder_and_include_brings_files_back(
        self, tmp_path
    ):
        # wskdeploy's zipactionwithexclude: function: actions, exclude: [actions/*], and the
        # three files the action needs included again.
        folder = make_folder(
            tmp_path / "actions",
            {
                "index.js": "i",
                "package.json": "{}",
                "common/utils.js": "u",
                "greeting/index.js": "g",
                "libs/lib1/utils.js": "l",
            },
        )
        include = (
            (str(tmp_path / "actions/common/utils.js"), "common/utils.js"),
            (str(tmp_path / "actions/index.js"), "index.js"),
            (str(tmp_path / "actions/package.json"), "package.json"),
        )
        spec = action(
            folder, runtime="nodejs:20", exclude=(str(tmp_path / "actions/*"),), include=include
        )
        assert names(build_artifact(spec).data) == ["common/utils.js", "index.js", "package.json"]

    @pytest.mark.parametrize(
        ("source", "dest", "expected"),
        [
            # The cases of wskdeploy's tests/src/integration/zipactionwithinclude manifest.
            ("actions/common/utils.js", "actions/common/utils.js", ["actions/common/utils.js"]),
            (
                "actions/common/utils.js",
                "common/common1/copyUtils.js",
                ["common/common1/copyUtils.js"],
            ),
            ("actions/common", "common/", ["common/utils.js"]),
            ("actions/common/*.js", "common/", ["common/utils.js"]),
            ("actions/common/utils.js", "./common/", ["common/utils.js"]),
            ("actions/common/*.js", "actions/common/*.js", ["actions/common/utils.js"]),
            ("actions/libs/*", "libs/", ["libs/lib1/utils.js", "libs/lib2/utils.js"]),
            ("actions/libs/*/utils.js", "libs/", ["libs/lib1/utils.js", "libs/lib2/utils.js"]),
            (
                "actions/*/*/utils.js",
                "actions/*/*/utils.js",
                ["actions/libs/lib1/utils.js", "actions/libs/lib2/utils.js"],
            ),
            ("actions/common/*.js", "lib", ["utils.js"]),  # no trailing /: the parent folder
        ],
    )
    def test_include_places_files_as_wskdeploy_does(self, tmp_path, source, dest, expected):
        make_folder(
            tmp_path / "actions",
            {"common/utils.js": "u", "libs/lib1/utils.js": "1", "libs/lib2/utils.js": "2"},
        )
        folder = make_folder(tmp_path / "actions/greeting", {"index.js": "i"})
        spec = action(folder, runtime="nodejs:20", include=((str(tmp_path / source), dest),))
        assert names(build_artifact(spec).data) == sorted(["index.js", *expected])

    def test_include_pairs_copy_a_file_a_glob_and_a_folder(self, tmp_path):
        folder = make_folder(tmp_path / "src", {"__main__.py": "x"})
        make_folder(
            tmp_path,
            {
                "shared/util.py": "u",
                "shared/more.py": "m",
                "LICENSE": "l",
                "assets/img/logo.svg": "s",
            },
        )
        include = (
            (str(tmp_path / "LICENSE"), "docs/LICENSE.txt"),
            (str(tmp_path / "shared/*.py"), "lib/"),
            (str(tmp_path / "assets"), "static"),
        )
        artifact = build_artifact(action(folder, include=include))
        assert names(artifact.data) == [
            "__main__.py",
            "docs/LICENSE.txt",
            "lib/more.py",
            "lib/util.py",
            "static/img/logo.svg",
        ]
        assert read(artifact.data, "docs/LICENSE.txt") == "l"

    def test_an_include_destination_leaving_the_zip_is_refused(self, tmp_path):
        folder = make_folder(tmp_path / "src", {"__main__.py": "x"})
        (tmp_path / "LICENSE").write_text("l")
        with pytest.raises(BundleError) as caught:
            build_artifact(action(folder, include=((str(tmp_path / "LICENSE"), "../LICENSE"),)))
        assert str(caught.value) == (
            "action hello: include destination '../LICENSE': expected a path inside"
            " the zip, found one that leaves it"
        )

    def test_an_include_matching_nothing_is_refused(self, tmp_path):
        folder = make_folder(tmp_path / "src", {"__main__.py": "x"})
        source = str(tmp_path / "nothing/*.py")
        with pytest.raises(BundleError) as caught:
            build_artifact(action(folder, include=((source, "lib"),)))
        assert (
            str(caught.value)
            == f"action hello: include source {source!r}: expected at least one match, found none"
        )


class TestSymlinks:
    def test_a_symlink_inside_the_folder_is_followed(self, tmp_path):
        folder = make_folder(tmp_path / "src", {**SOURCE, "real/mod.py": "m"})
        (folder / "alias.py").symlink_to(folder / "helper.py")
        (folder / "linked").symlink_to(folder / "real", target_is_directory=True)
        entries = names(build_artifact(action(folder)).data)
        assert {"alias.py", "linked/mod.py", "real/mod.py"} <= set(entries)

    def test_a_symlink_leaving_the_folder_is_refused(self, tmp_path):
        folder = make_folder(tmp_path / "src", SOURCE)
        (tmp_path / "secret.txt").write_text("s")
        (folder / "leak.txt").symlink_to(tmp_path / "secret.txt")
        with pytest.raises(BundleError) as caught:
            build_artifact(action(folder))
        assert str(caught.value) == (
            f"{folder / 'leak.txt'}: expected a symlink inside {folder}, found one to"
            f" {tmp_path / 'secret.txt'} (hint: copy the file in, or use include:)"
        )


class TestSize:
    def test_the_limit_is_openwhisks_exec_size(self):
        assert EXEC_LIMIT == 48 * 1024 * 1024

    def test_a_zip_over_the_limit_is_refused_before_any_upload(self, tmp_path):
        folder = make_folder(tmp_path / "src", {"__main__.py": "x"})
        (folder / "blob.bin").write_bytes(os.urandom(4096))  # random: does not compress
        with pytest.raises(BundleError) as caught:
            build_artifact(action(folder), limit=1024)
        message = str(caught.value)
        assert message.startswith(
            "action hello: expected code of at most 1024 bytes as sent (base64), found "
        )
        assert message.endswith(" bytes (hint: exclude what the action does not need)")

    def test_inline_code_over_the_limit_is_refused(self):
        with pytest.raises(BundleError) as caught:
            build_artifact(action(code="x" * 11), limit=10)
        assert str(caught.value) == (
            "action hello: expected code of at most 10 bytes as sent (base64), found 11"
            " bytes (hint: exclude what the action does not need)"
        )

    def test_a_zip_just_under_the_limit_passes(self, tmp_path):
        folder = make_folder(tmp_path / "src", {"__main__.py": "x"})
        size = len(build_artifact(action(folder)).data)
        assert build_artifact(action(folder), limit=4 * ((size + 2) // 3)).binary

    def test_a_symlink_back_up_its_own_tree_does_not_loop(self, tmp_path):
        folder = make_folder(tmp_path / "src", SOURCE)
        (folder / "data" / "again").symlink_to(folder, target_is_directory=True)
        # The loop is skipped: its files are already in the zip under their own path.
        assert names(build_artifact(action(folder)).data) == [
            "__main__.py",
            "data/words.txt",
            "helper.py",
        ]


class TestStreaming:
    def test_a_file_larger_than_a_chunk_is_streamed_and_reads_back_whole(self, tmp_path):
        folder = make_folder(tmp_path / "src", {"__main__.py": "x"})
        blob = os.urandom(CHUNK) + b"tail"  # one chunk and a bit: the streamed path
        (folder / "blob.bin").write_bytes(blob)
        data = build_artifact(action(folder)).data
        assert zipfile.ZipFile(io.BytesIO(data)).read("blob.bin") == blob

    def test_a_streamed_file_over_the_limit_is_refused(self, tmp_path):
        folder = make_folder(tmp_path / "src", {"__main__.py": "x"})
        (folder / "blob.bin").write_bytes(os.urandom(CHUNK + 1))
        with pytest.raises(BundleError, match="expected code of at most"):
            build_artifact(action(folder), limit=CHUNK // 2)


KEY_USE = "import os\nkey = os.environ['__OW_API_KEY']\n"


class TestApiUse:
    """Bundling notes code that calls the OpenWhisk API, so preflight need not reopen zips."""

    def test_a_folder_whose_module_reads_the_key_uses_the_api(self, tmp_path):
        folder = make_folder(tmp_path / "src", {**SOURCE, "helper.py": KEY_USE})
        assert build_artifact(action(folder)).uses_api

    def test_a_rest_path_in_a_js_file_uses_the_api(self, tmp_path):
        folder = make_folder(tmp_path / "src", {**SOURCE, "lib/call.js": "'/api/v1/namespaces'"})
        assert build_artifact(action(folder)).uses_api

    @pytest.mark.parametrize(
        "source",
        [
            "const openwhisk = require('openwhisk')\nconst ow = openwhisk()\n",
            'const ow = require("openwhisk")()\n',
            "import openwhisk from 'openwhisk'\n",
        ],
    )
    def test_a_js_file_loading_the_npm_client_uses_the_api(self, tmp_path, source):
        # the guide's web-action.js: the client reads __OW_API_KEY, the code never names it
        single = tmp_path / "web-action.js"
        single.write_text(source)
        assert build_artifact(action(single, runtime="nodejs:22")).uses_api

    def test_plain_code_and_markers_in_data_files_do_not(self, tmp_path):
        folder = make_folder(tmp_path / "src", {**SOURCE, "notes.txt": KEY_USE})
        assert not build_artifact(action(folder)).uses_api

    def test_single_files_inline_code_and_given_zips_are_searched_too(self, tmp_path):
        single = tmp_path / "one.py"
        single.write_text(KEY_USE)
        given = tmp_path / "given.zip"
        given.write_bytes(build_artifact(action(single)).data)
        assert build_artifact(action(single)).uses_api
        assert build_artifact(action(given)).uses_api
        assert build_artifact(action(code=KEY_USE)).uses_api
        assert not build_artifact(action(code="def main(a):\n    return a\n")).uses_api

    def test_a_given_file_that_is_not_a_zip_is_sent_and_judged_by_the_server(self, tmp_path):
        broken = tmp_path / "broken.zip"
        broken.write_bytes(b"not a zip " + KEY_USE.encode())
        artifact = build_artifact(action(broken))
        assert artifact.binary and not artifact.uses_api


class TestBinaryFiles:
    """Only text travels as text: a .jar or any non-UTF-8 file is binary code (base64)."""

    def test_a_jar_is_binary_and_sent_base64(self, tmp_path):
        from deploy.http.client import with_code

        jar = tmp_path / "app.jar"
        with zipfile.ZipFile(jar, "w") as archive:
            archive.writestr("Main.class", b"\xca\xfe\xba\xbe\x00\x00")
        artifact = build_artifact(action(jar, runtime="java:8"))
        body = with_code({"exec": {"kind": "java:8", "binary": artifact.binary}}, artifact)
        assert artifact.binary and base64.b64decode(body["exec"]["code"]) == jar.read_bytes()

    def test_a_non_text_file_of_a_family_left_to_the_server_is_binary(self, tmp_path):
        exe = tmp_path / "exec"
        exe.write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe")
        assert build_artifact(action(exe, runtime="go:1.20")).binary

    def test_a_text_file_stays_text(self, tmp_path):
        source = tmp_path / "hello.js"
        source.write_text("function main(a) { return a }\n")
        assert not build_artifact(action(source, runtime="nodejs:20")).binary

    @pytest.mark.parametrize(
        ("name", "data", "runtime", "found"),
        [
            ("blob.bin", b"\x00\x01\x02\xff", "python:3.11", "blob.bin (binary data)"),
            ("lib.jar", b"PK\x03\x04jar", "python:3.11", "lib.jar (a .jar)"),
            ("lib.jar", b"PK\x03\x04jar", "nodejs:20", "lib.jar (a .jar)"),
        ],
    )
    def test_binary_code_the_kind_cannot_unpack_is_refused(
        self, tmp_path, name, data, runtime, found
    ):
        source = tmp_path / name
        source.write_bytes(data)
        with pytest.raises(BundleError) as caught:
            build_artifact(action(source, runtime=runtime))
        assert f"kind {runtime} takes a" in str(caught.value)
        assert f"found {found}" in str(caught.value)
