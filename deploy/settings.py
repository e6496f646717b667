"""Where to deploy and with which key: flags, environment, ``.wskprops``, local default.

Owns the precedence rules (the wsk CLI's, apache/openwhisk-cli ``commands/property.go``,
and aio's, adobe/aio-lib-runtime ``src/utils.js`` ``checkOpenWhiskCredentials``)
and ``mask``, which every output path uses so the key is never printed. Reads only
what it is given: ``environ`` and ``home`` are parameters, nothing is read at import.
"""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deploy.errors import SettingsError
from whiskfacts.guest import GUEST_AUTH, GUEST_NAMESPACE

LOCAL_APIHOST = "http://127.0.0.1:3233"
# The port `python -m localwhisk` reads when --port is not given (its LOCALWHISK_<FLAG>
# variables); the Makefile sets it from LW_PORT, so the local default follows the server.
LOCAL_PORT_VARIABLE = "LOCALWHISK_PORT"
# The guest key is not a secret, but it is masked like any other key so that
# output never teaches people to paste keys around.
LOCAL_NAMESPACE = GUEST_NAMESPACE
ADOBE_APIHOST = "https://adobeioruntime.net"
LOCAL_SOURCE = "local default"
FIELDS = ("apihost", "auth", "namespace")


@dataclass(frozen=True)
class Settings:
    apihost: str  # always with a scheme, no trailing slash
    auth: str = field(repr=False)  # "uuid:key"; repr=False keeps it out of tracebacks
    namespace: str  # "_" = the key's own namespace
    source: str  # where the apihost came from, for the one-line announcement
    warnings: tuple[str, ...] = ()

    @property
    def is_local_default(self) -> bool:
        return self.source == LOCAL_SOURCE

    def describe(self) -> str:
        """``http://127.0.0.1:3233 namespace guest (local default)`` — never the key."""
        return f"{self.apihost} namespace {self.namespace} ({self.source})"


def resolve_settings(
    flags: Mapping[str, str | None],
    environ: Mapping[str, str],
    home: Path | str | None,
    manifest_namespace: str | None = None,
    deployment_namespace: str | None = None,
) -> Settings:
    """Take apihost, auth and namespace each from the first source that sets it.

    A manifest's ``project.namespace`` ranks below flags and environment and above
    ``.wskprops``, and a deployment file's above the manifest's (wskdeploy's order).
    """
    wskprops_path = _wskprops_path(environ, home)
    props, warnings = _read_wskprops(wskprops_path)
    sources: list[tuple[str, dict[str, str]]] = [
        ("flags", {k: v for k in FIELDS if (v := flags.get(k))}),
        ("env WHISK_*", _env(environ, "WHISK_")),
        ("env AIO_RUNTIME_*", _aio_env(environ)),
        (
            "the deployment file",
            {"namespace": deployment_namespace} if deployment_namespace else {},
        ),
        ("the manifest", {"namespace": manifest_namespace} if manifest_namespace else {}),
        (
            f".wskprops ({wskprops_path})",
            {k: props[k.upper()] for k in FIELDS if props.get(k.upper())},
        ),
    ]
    picked: dict[str, tuple[str, str]] = {}
    for name, values in sources:
        for key in FIELDS:
            if key in values and key not in picked:
                picked[key] = (values[key], name)

    if "apihost" not in picked:
        if "auth" in picked:
            auth_source = picked["auth"][1]
            if auth_source != "env AIO_RUNTIME_*":
                raise SettingsError(
                    f"an API key is set ({auth_source}) but no API host is: expected --apihost, "
                    "WHISK_APIHOST, AIO_RUNTIME_APIHOST or APIHOST in .wskprops; set one of them, "
                    "or remove the key to use the local server"
                )
            # aio's own default when only AIO_RUNTIME_AUTH/NAMESPACE are set (App Builder .env).
            picked["apihost"] = (
                ADOBE_APIHOST,
                "env AIO_RUNTIME_* (default Adobe I/O Runtime apihost)",
            )
        else:
            if "namespace" in picked:
                warnings.append(
                    f"namespace {picked['namespace'][0]!r} from {picked['namespace'][1]} "
                    "is ignored: no API host is set, so the local server's guest "
                    "credentials are used"
                )
            return Settings(
                local_apihost(environ), GUEST_AUTH, LOCAL_NAMESPACE, LOCAL_SOURCE, tuple(warnings)
            )

    apihost_raw, source = picked["apihost"]
    apihost = normalize_apihost(apihost_raw)
    if "auth" not in picked:
        raise SettingsError(
            f"no API key for {apihost} (apihost from {source}): expected one of --auth, "
            "WHISK_AUTH, AIO_RUNTIME_AUTH (or AIO_runtime_auth), AUTH in "
            f"{wskprops_path or '~/.wskprops'}; set one of them (the key looks like uuid:secret)"
        )
    auth = picked["auth"][0].strip()
    if ":" not in auth:
        raise SettingsError(
            f"the API key from {picked['auth'][1]} has no ':': expected "
            "'<uuid>:<secret>' as wsk and aio print it; check for a truncated copy"
        )
    namespace = picked.get("namespace", ("_", ""))[0].strip() or "_"
    return Settings(apihost, auth, namespace, source, tuple(warnings))


def local_apihost(environ: Mapping[str, str]) -> str:
    """The local server's URL: port 3233, or the one ``LOCALWHISK_PORT`` gives it."""
    raw = environ.get(LOCAL_PORT_VARIABLE, "").strip()
    if not raw:
        return LOCAL_APIHOST
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(
            f"{LOCAL_PORT_VARIABLE}={raw!r}: expected the local server's port, a number from "
            f"1 to 65535 (make sets it from LW_PORT); unset it for the default 3233"
        )
    return f"http://127.0.0.1:{int(raw)}"


def normalize_apihost(value: str) -> str:
    """Add the scheme the wsk CLI assumes (https), except http for loopback hosts."""
    value = value.strip()
    if "://" in value:
        scheme, _, rest = value.partition("://")
        value = value.rstrip("/")
        if scheme.lower() not in ("http", "https") or not rest.strip("/"):
            raise SettingsError(
                f"apihost {value!r}: expected http://host[:port] or "
                "https://host[:port] (or a bare host, https assumed)"
            )
        return value
    value = value.rstrip("/")
    scheme = "http" if is_loopback(value) else "https"
    return f"{scheme}://{value}"


def is_loopback(apihost: str) -> bool:
    """``localhost``, ``127.x`` or ``[::1]``, with or without scheme, port and path."""
    host = apihost.split("://")[-1].split("/")[0]
    if host.startswith("["):
        return host.startswith("[::1]")
    host = host.rsplit(":", 1)[0]
    return host == "localhost" or host.startswith("127.")


def mask(text: str, settings: Settings | None) -> str:
    """Replace the key, its secret half and its Basic-auth form with ``***``."""
    if not text or settings is None or not settings.auth:
        return text
    return mask_secrets(text, secret_forms([settings.auth]))


# Variables a key may be offered in; case-insensitive because aio reads AIO_ names so.
KEY_VARIABLES = frozenset({"WHISK_AUTH", "AIO_RUNTIME_AUTH"})


def offered_keys(
    environ: Mapping[str, str], flag: str | None = None, settings: Settings | None = None
) -> tuple[str, ...]:
    """The ``secret_forms`` of every key this run was offered, used or not: the resolved
    one, ``--auth`` and the key variables. The one list every CLI output is masked with."""
    keys = {v for k, v in environ.items() if k.upper() in KEY_VARIABLES and v}
    if flag:
        keys.add(flag)
    if settings is not None and settings.auth:
        keys.add(settings.auth)
    return secret_forms(keys)


def secret_forms(keys: Iterable[str]) -> tuple[str, ...]:
    """Every printable form of ``keys`` (whole, Basic-auth base64, secret half), longest first,
    so the whole key is not half-replaced by its secret part. A form shorter than 8
    characters (a typo in --auth) would mask half the output and protect nothing: left out."""
    forms = set()
    for auth in keys:
        forms.update((auth, base64.b64encode(auth.encode()).decode(), auth.partition(":")[2]))
    return tuple(sorted((f for f in forms if len(f) >= 8), key=len, reverse=True))


def mask_secrets(text: str, forms: tuple[str, ...]) -> str:
    for secret in forms:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _env(environ: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {k: v for k in FIELDS if (v := environ.get(f"{prefix}{k.upper()}", "").strip())}


def _aio_env(environ: Mapping[str, str]) -> dict[str, str]:
    """aio maps ``AIO_`` case-insensitively (``AIO_runtime_auth`` in App Builder .env files)."""
    found: dict[str, str] = {}
    for key in FIELDS:
        wanted = f"AIO_RUNTIME_{key.upper()}"
        exact = environ.get(wanted, "").strip()
        if exact:
            found[key] = exact
            continue
        for name in sorted(environ):
            if name.upper() == wanted and environ[name].strip():
                found[key] = environ[name].strip()
                break
    return found


def _wskprops_path(environ: Mapping[str, str], home: Path | str | None) -> Path | None:
    # wsk CLI rule: WSK_CONFIG_FILE, once set (even empty), replaces ~/.wskprops entirely.
    if "WSK_CONFIG_FILE" in environ:
        value = environ["WSK_CONFIG_FILE"]
        return Path(value).expanduser() if value else None
    return Path(home) / ".wskprops" if home is not None else None


def _read_wskprops(path: Path | None) -> tuple[dict[str, str], list[str]]:
    """Parse KEY=VALUE lines the way the Go CLI does (apache/openwhisk-cli ``commands/util.go``
    ``ReadProps``)."""
    if path is None or not path.is_file():
        return {}, []
    warnings: list[str] = []
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRGRP | stat.S_IROTH):
        warnings.append(
            f"{path} holds an API key and is readable by group/others "
            f"(mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
        )
    props: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split("#", 1)[0].strip()
        parts = line.split("=")
        if len(parts) != 2:  # the Go CLI skips lines that are not exactly KEY=VALUE
            continue
        props[parts[0].strip().upper()] = parts[1].strip()
    return props, warnings
