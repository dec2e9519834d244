"""deploy/ (Kubernetes: images, Helm values, manifests) parses and agrees with the code.

No Docker or cluster here: every file under deploy/ is parsed, the
project's chart (deploy/helm/chart) is rendered with the pinned helm binary
(.venv/k8s, requirements-k8s.txt) for both its values files, and all of it is
validated against the Kubernetes API schemas and checked against what the
code says: ports (bot/settings.py defaults), the
commands bot/stack.py runs, the routes the probes call, the HELPLINE_*
variables the code reads, the files and Python packages each image needs,
the names the manifests use for each other, and that no secret is written in
any of them.
"""
from __future__ import annotations

import ast
import functools
import json
import posixpath
import re
import shlex
import sys
from importlib import metadata, util
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple
from urllib.parse import urlsplit

import pytest
import yaml

from bot import rasa_patches
from bot.settings import Settings, SettingError
from bot.stack import GATEWAY_PYTHON, action_server_command, gateway_command, rasa_command

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCKER = DEPLOY / "docker"
HELM = DEPLOY / "helm"
README = DEPLOY / "README.md"

DEFAULTS = Settings()
PRODUCTION = Settings(profile="production")
# Settings' defaults: what the images and manifests must listen on and call.
PORTS = {"rasa": DEFAULTS.rasa_port, "actions": DEFAULTS.action_port, "gateway": DEFAULTS.gateway_port}
DB_PORT, REDIS_PORT = DEFAULTS.db_port, DEFAULTS.redis_port

IMAGES = {"rasa": "rasa.Dockerfile", "actions": "actions.Dockerfile", "gateway": "gateway.Dockerfile"}
# the component label each process's pods carry (podLabels, manifests)
COMPONENT = {"rasa": "rasa", "actions": "action-server", "gateway": "gateway", "retention": "retention"}
# The project's chart renders the Rasa server and the action server, one
# release each, from these values files.
CHART = HELM / "chart"
VALUES = {"rasa": "rasa-values.yaml", "actions": "action-server-values.yaml"}
K8S_BIN = ROOT / ".venv" / "k8s" / "bin"
HELM_BIN = K8S_BIN / "helm"

# ---------------------------------------------------------------------------
# CONTRACT of the production profile, as given in the issue. Used only as a
# fallback: a HELPLINE_* name in deploy/ must be read by the code, or be here
# while the code does not read it yet. Remove names once the code has them
# (today bot/settings.py and endpoints.production.yml read all of them).
PRODUCTION_ENDPOINTS_CONTRACT = {
    "HELPLINE_ACTION_URL",
    "HELPLINE_DB_HOST", "HELPLINE_DB_PORT", "HELPLINE_DB_NAME", "HELPLINE_DB_USER", "HELPLINE_DB_PASSWORD",
    "HELPLINE_REDIS_HOST", "HELPLINE_REDIS_PORT", "HELPLINE_REDIS_DB", "HELPLINE_REDIS_PASSWORD",
}
PRODUCTION_SETTINGS_CONTRACT = {"HELPLINE_PROFILE", "HELPLINE_RASA_URLS", "HELPLINE_RETENTION_DAYS"}
# ---------------------------------------------------------------------------

VARIABLE = re.compile(r"HELPLINE_[A-Z0-9_]*[A-Z0-9](?:_?\*)?")
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|AUTH|_SID\b|_KEY\b", re.I)
SECRET_KEY = re.compile(r"^(password|passwd|token|secret|jwtsecret|apikey|api_key|auth_token)$", re.I)
SECRET_TEXT = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b"),  # Telegram bot token
    re.compile(r"\bAC[0-9a-f]{32}\b"),  # Twilio account SID
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key
    re.compile(r"\bEAA[A-Za-z0-9]{30,}\b"),  # Meta page access token
    re.compile(r"(?i)(?<![a-z])(password|passwd|token|secret)\s*[:=]\s*[\"']?[A-Za-z0-9+/_.-]{12,}"),
]
BUILD_TOOLS = {"pip", "setuptools", "wheel"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------------------
# Reading the files


def deploy_files() -> List[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file())


def yaml_files() -> List[Path]:
    """The plain YAML files: values and manifests (the chart's own files are
    Helm templates, read by helm: ``rendered``)."""
    return [p for p in deploy_files() if p.suffix in (".yaml", ".yml") and CHART not in p.parents]


@functools.lru_cache(maxsize=None)
def documents(path: Path) -> Tuple[Any, ...]:
    return tuple(d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None)


def values(name: str) -> Dict[str, Any]:
    (doc,) = documents(HELM / name)
    return doc


def helm(*args: str) -> str:
    import subprocess

    assert HELM_BIN.is_file(), f"{HELM_BIN} is missing: `make .venv/k8s/.ok` (part of `make test`)"
    result = subprocess.run([str(HELM_BIN), *args], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@functools.lru_cache(maxsize=None)
def rendered(process: str) -> Tuple[Dict[str, Any], ...]:
    """What ``helm install`` (as deploy/README.md runs it) would create."""
    out = helm("template", release(process), str(CHART), "--namespace", "helpline",
               "-f", str(HELM / VALUES[process]))
    return tuple(d for d in yaml.safe_load_all(out) if d is not None)


def plain_manifests() -> List[Dict[str, Any]]:
    return [d for p in yaml_files() for d in documents(p) if isinstance(d, dict) and "kind" in d]


def manifests() -> List[Dict[str, Any]]:
    return plain_manifests() + [d for process in VALUES for d in rendered(process)]


def of_kind(kind: str) -> List[Dict[str, Any]]:
    return [d for d in manifests() if d["kind"] == kind]


def one(kind: str, name: str) -> Dict[str, Any]:
    (found,) = [d for d in of_kind(kind) if d["metadata"]["name"] == name]
    return found


@functools.lru_cache(maxsize=None)
def dockerfile(image: str) -> Tuple[Tuple[str, str], ...]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    instructions, current = [], ""
    for line in (DOCKER / IMAGES[image]).read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            keyword, _, rest = current.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
        current = ""
    assert not current.strip(), f"{IMAGES[image]} ends inside a continued line"
    return tuple(instructions)


def final_stage(image: str) -> List[Tuple[str, str]]:
    instructions = list(dockerfile(image))
    last = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last:]


def instruction(image: str, keyword: str) -> List[str]:
    return [rest for k, rest in final_stage(image) if k == keyword]


def exec_form(rest: str) -> List[str]:
    command = json.loads(rest)
    assert isinstance(command, list) and all(isinstance(a, str) for a in command), rest
    return command


def instruction_all(image: str, keyword: str) -> List[str]:
    return [rest for k, rest in dockerfile(image) if k == keyword]


def makefile_pip() -> str:
    match = re.search(r"pip==([0-9.]+)", (ROOT / "Makefile").read_text(encoding="utf-8"))
    assert match
    return match.group(1)


def cmd(image: str) -> List[str]:
    (rest,) = instruction(image, "CMD")
    return exec_form(rest)


def env_of_image(image: str) -> Dict[str, str]:
    env: Dict[str, str] = {}
    for rest in instruction(image, "ENV"):
        for pair in shlex.split(rest):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def workdir(image: str) -> str:
    (path,) = instruction(image, "WORKDIR")
    return path.rstrip("/")


def copies(image: str) -> List[Tuple[List[str], str]]:
    """(sources, destination) of the final stage's COPY lines from the build context."""
    found = []
    for rest in instruction(image, "COPY"):
        words = shlex.split(rest)
        if any(w.startswith("--from") for w in words):
            continue
        words = [w for w in words if not w.startswith("--")]
        found.append((words[:-1], words[-1]))
    return found


def copied_sources(image: str) -> List[str]:
    return [src for sources, _ in copies(image) for src in sources]


def in_image(image: str, path: str) -> bool:
    """Is this repository path (file or directory) copied into the image?"""
    for src in copied_sources(image):
        src = src.rstrip("/")
        if path.rstrip("/") == src or path.startswith(src + "/"):
            return True
    return False


# the gateway has its own pins (a current aiohttp; docs/security.md)
REQUIREMENTS_OF = {"gateway": "requirements-gateway.txt"}


def packages_arg(image: str) -> List[str]:
    for keyword, rest in dockerfile(image):
        if keyword == "ARG" and rest.startswith("PACKAGES="):
            return shlex.split(rest.partition("=")[2])[0].split()
    return []


def makefile_value(name: str) -> str:
    match = re.search(rf"^{name}\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert match, f"{name} not in the Makefile"
    return match.group(1)


def pinned(path: Path) -> Dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.lstrip().startswith(("#", "-")):
            name, _, version = line.strip().partition("==")
            pins[norm(name)] = version
    return pins


# Pods: environment, labels, command of each process as deployed


def env_list_to_dict(entries: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names)), f"a variable is set twice: {names}"
    return {e["name"]: e for e in entries}


def pod_env(process: str) -> Dict[str, Dict[str, Any]]:
    return env_list_to_dict(container(process).get("env", []))


def plain_env(process: str) -> Dict[str, str]:
    return {name: str(e["value"]) for name, e in pod_env(process).items() if "value" in e}


def pod_template(process: str) -> Dict[str, Any]:
    if process in VALUES:
        return one("Deployment", release(process))["spec"]["template"]
    if process == "gateway":
        return one("Deployment", "helpline-gateway")["spec"]["template"]
    if process == "retention":
        return one("CronJob", "helpline-retention")["spec"]["jobTemplate"]["spec"]["template"]
    raise KeyError(process)


def container(process: str) -> Dict[str, Any]:
    (found,) = pod_template(process)["spec"]["containers"]
    return found


def pod_labels(process: str) -> Dict[str, str]:
    return pod_template(process)["metadata"]["labels"]


def install_command(process: str) -> str:
    return rf"helm install (\S+) deploy/helm/chart -n helpline -f deploy/helm/{re.escape(VALUES[process])}"


@functools.lru_cache(maxsize=None)
def release(process: str) -> str:
    """The release name deploy/README.md installs the chart under for this
    process: the chart names the Deployment and the Service after it."""
    match = re.search(install_command(process), README.read_text(encoding="utf-8"))
    assert match, f"deploy/README.md does not install the chart with {VALUES[process]}"
    return match.group(1)


def service_url(url: str) -> Tuple[str, int, str]:
    parts = urlsplit(url)
    return parts.hostname, parts.port, parts.path


# Code: routes, variables, imports


def gateway_routes() -> Set[str]:
    source = (ROOT / "bot" / "gateway.py").read_text(encoding="utf-8")
    return set(re.findall(r"router\.add_(?:get|post|route)\(\s*(?:\"[A-Z]+\",\s*)?\"(/[^\"]*)\"", source))


def package_source(package: str, module: str) -> str:
    spec = util.find_spec(package)
    assert spec and spec.submodule_search_locations, f"{package} is not installed"
    return (Path(list(spec.submodule_search_locations)[0]) / module).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def code_variables() -> Set[str]:
    names: Set[str] = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("actions/**/*.py"), *ROOT.glob("endpoints*.yml")]:
        names.update(re.findall(r"HELPLINE_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")))
    return names


def endpoints_variables() -> Set[str]:
    path = ROOT / "endpoints.production.yml"
    if not path.exists():  # not written yet: the contract says what it will read
        return set(PRODUCTION_ENDPOINTS_CONTRACT)
    return set(re.findall(r"\$\{(\w+)\}", path.read_text(encoding="utf-8")))


def module_file(module: str) -> Optional[Path]:
    base = ROOT / module.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def import_closure(entries: List[Path]) -> Tuple[Set[Path], Set[str]]:
    """Our files reached from these (imports of bot.* and actions.*, also inside
    functions) and the third-party top-level modules they import."""
    ours, third, queue = set(), set(), list(entries)
    while queue:
        path = queue.pop()
        if path in ours:
            continue
        ours.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in ("bot", "actions"):
                    parts = name.split(".")
                    for i in range(1, len(parts) + 1):  # packages' __init__ run too
                        found = module_file(".".join(parts[:i]))
                        if found:
                            queue.append(found)
                elif top != "__future__" and top not in sys.stdlib_module_names:
                    third.add(top)
    return ours, third


@functools.lru_cache(maxsize=None)
def distributions_by_module() -> Dict[str, List[str]]:
    return metadata.packages_distributions()


def distribution_closure(modules: Set[str]) -> Set[str]:
    from packaging.requirements import Requirement

    by_module = distributions_by_module()
    queue = [d for m in modules for d in (by_module.get(m) or [metadata.distribution(m).metadata["Name"]])]
    seen: Set[str] = set()
    while queue:
        name = queue.pop()
        if norm(name) in seen:
            continue
        seen.add(norm(name))
        for requirement in metadata.requires(name) or []:
            req = Requirement(requirement)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                queue.append(req.name)
    return seen


# ---------------------------------------------------------------------------
# Everything parses


def test_deploy_has_the_files_an_operator_needs():
    for path in [README, *(DOCKER / f for f in IMAGES.values())]:
        assert path.is_file(), path
    for name in ("rasa-values.yaml", "action-server-values.yaml", "gateway.yaml",
                 "retention-cronjob.yaml", "network-policies.yaml"):
        assert (HELM / name).is_file(), name


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path):
    docs = documents(path)
    assert docs, f"{path} is empty"
    assert all(isinstance(d, dict) for d in docs)


KINDS = {
    "Deployment": "apps/v1", "Service": "v1", "Ingress": "networking.k8s.io/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2", "PodDisruptionBudget": "policy/v1",
    "NetworkPolicy": "networking.k8s.io/v1", "CronJob": "batch/v1",
}


def test_manifests_are_current_kubernetes_objects_without_a_fixed_namespace():
    found = manifests()
    assert found
    for doc in found:
        assert doc["kind"] in KINDS, f"unexpected kind {doc['kind']}"
        assert doc["apiVersion"] == KINDS[doc["kind"]], doc["kind"]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", doc["metadata"]["name"])
        assert "namespace" not in doc["metadata"], "the namespace comes from `kubectl -n`"
        assert "spec" in doc


def test_deployment_selectors_match_their_pods():
    for deployment in of_kind("Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items()
        for service in of_kind("Service"):
            if service["metadata"]["name"] == deployment["metadata"]["name"]:
                assert service["spec"]["selector"].items() <= labels.items()


@pytest.mark.parametrize("image", IMAGES)
def test_every_dockerfile_parses(image):
    keywords = {k for k, _ in dockerfile(image)}
    assert keywords <= {"FROM", "ARG", "ENV", "COPY", "RUN", "WORKDIR", "USER", "EXPOSE", "HEALTHCHECK", "CMD"}
    for keyword, rest in dockerfile(image):
        if keyword == "FROM":
            assert rest.split()[0] == "python:3.10-slim", "every stage builds on python:3.10-slim"
    for keyword in ("CMD", "HEALTHCHECK", "EXPOSE", "USER", "WORKDIR"):
        assert len(instruction(image, keyword)) == 1, f"{IMAGES[image]}: one {keyword} in the final stage"
    cmd(image)  # exec form


# ---------------------------------------------------------------------------
# Images: user, packages, files, commands, ports, health


@pytest.mark.parametrize("image", IMAGES)
def test_images_run_as_the_non_root_user_the_pods_require(image):
    (user,) = instruction(image, "USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0, "numeric and not root, so runAsNonRoot can check it"
    contexts = [pod_template(process)["spec"]["securityContext"] for process in ("rasa", "actions", "gateway", "retention")]
    for context in contexts:
        assert context["runAsNonRoot"] is True
        assert context["runAsUser"] == int(uid)
        if gid:
            assert context["runAsGroup"] == int(gid)


@pytest.mark.parametrize("image", IMAGES)
def test_images_install_the_pinned_requirements_without_unpinned_extras(image):
    runs = " ".join(instruction_all(image, "RUN"))
    assert f"pip=={makefile_pip()}" in runs, "the Makefile's pip"
    for install in re.findall(r"pip install [^;&]*-r [^;&]*", runs):
        assert "--no-deps" in install, f"{IMAGES[image]}: {install}"
    assert "pip check" in runs
    if image == "rasa":
        assert "-r /tmp/req/requirements.txt" in runs, "the Rasa image installs all of requirements.txt"
    else:
        requirements = REQUIREMENTS_OF.get(image, "requirements.txt")
        pins = pinned(ROOT / requirements)
        for name in packages_arg(image):
            assert norm(name) in pins, f"{IMAGES[image]}: {name} has no pinned version in {requirements}"


@pytest.mark.parametrize(
    "image, entries",
    [("actions", ["actions"]), ("gateway", ["bot/gateway.py"])],
)
def test_images_have_every_package_and_file_their_code_imports(image, entries):
    files = [p for e in entries for p in ((ROOT / e).rglob("*.py") if (ROOT / e).is_dir() else [ROOT / e])]
    ours, third = import_closure(files)
    for path in ours:
        relative = path.relative_to(ROOT).as_posix()
        assert in_image(image, relative), f"{IMAGES[image]} does not copy {relative}"
        # data files next to the code (PACKAGE_DIR / "facts.yml", parent / "web")
        for data in re.findall(r"(?:PACKAGE_DIR|\.parent)\s*/\s*\"([^\"]+)\"", path.read_text(encoding="utf-8")):
            data_path = (path.parent / data).relative_to(ROOT).as_posix()
            assert (ROOT / data_path).exists(), data_path
            assert in_image(image, data_path), f"{IMAGES[image]} does not copy {data_path}"
    needed = distribution_closure(third) - BUILD_TOOLS
    listed = {norm(n) for n in packages_arg(image)}
    assert needed <= listed, f"{IMAGES[image]}: PACKAGES lacks {sorted(needed - listed)}"


def test_the_rasa_image_has_the_custom_components_and_channels():
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    names = [c["name"] for c in config["pipeline"] + config["policies"]] + list(credentials)
    for dotted in (n for n in names if n.startswith("bot.")):
        found = module_file(dotted.rsplit(".", 1)[0])
        assert found, dotted
        assert in_image("rasa", found.relative_to(ROOT).as_posix()), dotted
    assert in_image("rasa", "bot/retention.py") or not (ROOT / "bot" / "retention.py").exists()


@pytest.mark.parametrize("image", IMAGES)
def test_copied_paths_exist_and_keep_the_repository_layout(image):
    model = makefile_value("MODEL")  # built by `make train`, not in git
    for sources, destination in copies(image):
        for src in sources:
            assert (ROOT / src).exists() or src == model, f"{IMAGES[image]}: COPY {src}: no such path"
            # bot/settings.py's ROOT and bot/catalogue's data paths are relative
            # to the code: each file must sit under WORKDIR where the
            # repository has it.
            if (ROOT / src).is_dir():
                placed = destination
            elif destination.endswith("/") or destination in (".", "./"):
                placed = posixpath.join(destination, posixpath.basename(src))
            else:
                placed = destination
            assert posixpath.normpath(placed) == posixpath.normpath(src), f"COPY {src} {destination}"


@pytest.mark.parametrize("image", IMAGES)
def test_each_build_context_lets_in_what_the_image_copies(image):
    ignore = DOCKER / f"{IMAGES[image]}.dockerignore"
    lines = {l.strip() for l in ignore.read_text(encoding="utf-8").splitlines()}
    assert "**" in lines, "allow-list: everything else (.venv, .git, secrets) stays out"
    build_inputs = copied_sources(image) + [REQUIREMENTS_OF.get(image, "requirements.txt")]
    for src in build_inputs:
        assert f"!{src}" in lines, f"{ignore.name} must let in {src}"


def python_command(command: List[str]) -> List[str]:
    """A command of bot/stack.py as the image runs it: its venv's python is the image's."""
    assert command[0] in (sys.executable, str(GATEWAY_PYTHON))
    return ["python", *command[1:]]


def test_the_action_server_image_runs_what_bot_stack_runs():
    assert cmd("actions") == python_command(action_server_command(DEFAULTS))
    assert module_file("actions") and in_image("actions", "actions/__init__.py")
    assert util.find_spec("rasa_sdk") and "rasa-sdk" in {norm(n) for n in packages_arg("actions")}


def test_the_gateway_image_runs_what_bot_stack_runs():
    assert cmd("gateway") == python_command(gateway_command(DEFAULTS))
    assert in_image("gateway", "bot/gateway.py") and in_image("gateway", "bot/web")


def rasa_options(command: List[str]) -> Tuple[List[str], Dict[str, str]]:
    head, options, i = [], {}, 0
    while i < len(command):
        if command[i].startswith("--"):
            takes_value = i + 1 < len(command) and not command[i + 1].startswith("--")
            options[command[i]] = command[i + 1] if takes_value else ""
            i += 2 if takes_value else 1
        else:
            head.append(command[i])
            i += 1
    return head, options


def expected_rasa_command() -> Tuple[List[str], Dict[str, str]]:
    """bot/stack.py's production rasa command, as it is inside the image."""
    command = [a.replace(str(ROOT), workdir("rasa")) for a in python_command(rasa_command(PRODUCTION))]
    head, options = rasa_options(command)
    options["--interface"] = "0.0.0.0"  # in a pod: its own address, not loopback
    return head, options


def test_the_rasa_image_runs_what_bot_stack_runs_in_the_production_profile():
    head, options = rasa_options(cmd("rasa"))
    assert (head, options) == expected_rasa_command()
    assert options["--endpoints"].endswith("/endpoints.production.yml")
    for option in ("--model", "--endpoints", "--credentials"):
        relative = Path(options[option]).relative_to(workdir("rasa")).as_posix()
        assert in_image("rasa", relative), f"{option} {options[option]} is not in the image"


def test_rasa_chart_runs_the_image_command_with_the_api_off_or_token_protected():
    command = [str(a) for a in container("rasa")["command"] + container("rasa")["args"]]
    head, options = rasa_options(command)
    expected_head, expected = expected_rasa_command()
    api = {k: options.pop(k) for k in ("--enable-api", "--auth-token") if k in options}
    assert (head, options) == (expected_head, expected), "same as the image's CMD"
    assert "--cors" not in options and "--jwt-secret" not in options
    if api:  # switched on: only with a token from a Secret
        assert api.get("--auth-token") == "$(HELPLINE_RASA_API_TOKEN)"
        assert "secretKeyRef" in pod_env("rasa")["HELPLINE_RASA_API_TOKEN"]["valueFrom"]


def test_the_retention_job_runs_a_command_bot_retention_has():
    command = container("retention")["command"]
    assert command[:3] == ["python", "-m", "bot.retention"]
    assert command[3] == "purge"
    assert container("retention")["image"] == container("rasa")["image"], "the Rasa image has the DB packages"
    retention = ROOT / "bot" / "retention.py"
    if retention.exists():  # bot.retention is checked once it exists
        source = retention.read_text(encoding="utf-8")
        assert re.search(r"add_parser\(\s*\"purge\"", source)
        for option in (a for a in command[4:] if a.startswith("--")):
            assert f'"{option}"' in source, option
        assert in_image("rasa", "bot/retention.py")


def test_sanic_host_is_opened_in_the_action_server_image_only():
    assert env_of_image("actions")["SANIC_HOST"] == "0.0.0.0"
    assert "SANIC_HOST" not in env_of_image("gateway") and "SANIC_HOST" not in env_of_image("rasa")
    for process in ("rasa", "actions", "gateway", "retention"):
        assert "SANIC_HOST" not in pod_env(process)


def test_ports_are_the_settings_defaults_everywhere():
    for image, port in PORTS.items():
        assert instruction(image, "EXPOSE") == [str(port)], IMAGES[image]
        (health,) = instruction(image, "HEALTHCHECK")
        assert f"http://127.0.0.1:{port}/" in health
    assert rasa_options(cmd("rasa"))[1]["--port"] == str(PORTS["rasa"])
    assert rasa_options(cmd("actions"))[1]["--port"] == str(PORTS["actions"])
    assert env_of_image("gateway")["HELPLINE_GATEWAY_PORT"] == str(PORTS["gateway"])

    for process in ("rasa", "actions"):
        (port,) = container(process)["ports"]
        (service_port,) = one("Service", release(process))["spec"]["ports"]
        assert port["containerPort"] == service_port["port"] == PORTS[process], process
        assert service_port["targetPort"] == port["name"] == "http"

    (port,) = container("gateway")["ports"]
    assert port["containerPort"] == PORTS["gateway"]
    assert plain_env("gateway")["HELPLINE_GATEWAY_PORT"] == str(PORTS["gateway"])
    (service_port,) = one("Service", "helpline-gateway")["spec"]["ports"]
    assert service_port["port"] == PORTS["gateway"] and service_port["targetPort"] == port["name"]


def test_probes_call_routes_that_exist():
    routes = gateway_routes()
    assert {"/", "/healthz", "/readyz", "/api/chat"} <= routes
    for probe in ("livenessProbe", "readinessProbe"):
        assert container("gateway")[probe]["httpGet"]["path"] in routes
        assert container("gateway")[probe]["httpGet"]["path"] == "/healthz", \
            "the gateway answers with the contacts while Rasa is down: keep it in service"
    assert re.search(r"127\.0\.0\.1:\d+/healthz'", instruction("gateway", "HEALTHCHECK")[0])

    sdk = package_source("rasa_sdk", "endpoint.py")
    rasa_server = package_source("rasa", "server.py")
    for process, source, path in (("actions", sdk, "/health"), ("rasa", rasa_server, "/")):
        assert f'@app.get("{path}")' in source
        for probe in ("livenessProbe", "readinessProbe"):
            assert container(process)[probe]["httpGet"]["path"] == path
            assert container(process)[probe]["httpGet"]["port"] == "http"
    assert "/health'" in instruction("actions", "HEALTHCHECK")[0]
    assert f"127.0.0.1:{PORTS['rasa']}/'" in instruction("rasa", "HEALTHCHECK")[0]


# ---------------------------------------------------------------------------
# Variables


def test_every_helpline_variable_named_in_deploy_is_read_by_the_code():
    known = code_variables() | PRODUCTION_ENDPOINTS_CONTRACT | PRODUCTION_SETTINGS_CONTRACT
    for path in deploy_files():
        for name in VARIABLE.findall(path.read_text(encoding="utf-8")):
            if name.endswith("*"):
                prefix = name.rstrip("*")
                assert any(k.startswith(prefix) for k in known), f"{path.name}: {name}"
            else:
                assert name in known, f"{path.relative_to(ROOT)}: {name} is read nowhere in the code"


def test_endpoints_production_reads_the_contract():
    path = ROOT / "endpoints.production.yml"
    if not path.exists():
        pytest.skip("endpoints.production.yml is not written yet")
    assert PRODUCTION_ENDPOINTS_CONTRACT <= endpoints_variables()


def test_rasa_pods_set_every_variable_endpoints_production_needs():
    env = pod_env("rasa")
    missing = endpoints_variables() - set(env)
    assert not missing, f"Rasa does not start without {sorted(missing)}"
    action_host, action_port, action_path = service_url(env["HELPLINE_ACTION_URL"]["value"])
    (service_port,) = one("Service", release("actions"))["spec"]["ports"]
    assert action_port == service_port["port"]
    assert action_path == urlsplit(DEFAULTS.action_url).path
    assert action_host == release("actions")


def test_plain_values_pass_the_codes_own_validation():
    for process in ("rasa", "gateway", "retention"):
        env = plain_env(process)
        try:
            Settings.from_env(env)
        except SettingError as problem:  # pragma: no cover - the message says which
            pytest.fail(f"{process}: {problem}")
    timeout = plain_env("rasa").get("HELPLINE_ACTION_TIMEOUT")
    if timeout is not None:
        assert float(timeout) > 0 and rasa_patches.ACTION_TIMEOUT_ENV == "HELPLINE_ACTION_TIMEOUT"


def test_the_gateway_calls_the_rasa_service():
    settings = Settings.from_env(plain_env("gateway"))
    (service_port,) = one("Service", release("rasa"))["spec"]["ports"]
    for url in settings.rasa_urls:
        assert service_url(url)[:2] == (release("rasa"), service_port["port"])
    assert settings.trust_forwarded_for, "behind the Ingress the peer is the controller"


def test_rasa_and_the_retention_job_use_the_same_database():
    rasa, retention = plain_env("rasa"), plain_env("retention")
    for name in ("HELPLINE_DB_HOST", "HELPLINE_DB_PORT", "HELPLINE_DB_NAME"):
        assert rasa[name] == retention[name], name
    assert int(rasa["HELPLINE_DB_PORT"]) == DB_PORT and int(rasa["HELPLINE_REDIS_PORT"]) == REDIS_PORT
    for name in ("HELPLINE_DB_USER", "HELPLINE_DB_PASSWORD"):
        assert pod_env("rasa")[name]["valueFrom"] == pod_env("retention")[name]["valueFrom"]
    assert retention["HELPLINE_PROFILE"] == "production", "purge deletes nothing in the embedded profile"
    assert Settings.from_env(retention).retention_days > 0


def test_every_messaging_channel_variable_reaches_rasa():
    table = (ROOT / "docs" / "channels.md").read_text(encoding="utf-8").split("## Making")[0]
    channel_variables = set(re.findall(r"`(HELPLINE_[A-Z0-9_]+)`", table))
    assert channel_variables, "docs/channels.md lists the channels' variables"
    env = pod_env("rasa")
    assert channel_variables <= set(env), sorted(channel_variables - set(env))
    for name in channel_variables:
        if "valueFrom" in env[name]:
            assert env[name]["valueFrom"]["secretKeyRef"].get("optional") is True, \
                f"{name}: a channel without its Secret keys must stay off, not stop Rasa"
    public = urlsplit(env["HELPLINE_PUBLIC_URL"]["value"])
    (ingress,) = of_kind("Ingress")
    assert public.scheme == "https" and not public.path.strip("/")
    assert public.hostname in [rule["host"] for rule in ingress["spec"]["rules"]]


# ---------------------------------------------------------------------------
# Exposure: one Ingress, ClusterIP services, NetworkPolicies


def webhook_paths() -> Set[str]:
    paths = set()
    for path in (ROOT / "bot" / "channels").glob("*.py"):
        paths.update(re.findall(r"The webhook is ``(/webhooks/[a-z]+/webhook)``", path.read_text(encoding="utf-8")))
    return paths


def test_the_gateway_is_the_only_ingress_and_rasa_gets_only_the_webhooks():
    (ingress,) = of_kind("Ingress")
    assert ingress["spec"]["tls"], "TLS: the platforms and browsers need https"
    rasa_service = release("rasa")
    to_rasa, to_gateway = set(), set()
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            if backend["name"] == rasa_service:
                assert path["pathType"] == "Exact", f"{path['path']}: nothing else of Rasa"
                assert backend["port"]["number"] == PORTS["rasa"]
                to_rasa.add(path["path"])
            else:
                assert backend["name"] == "helpline-gateway" and backend["port"]["number"] == PORTS["gateway"]
                to_gateway.add(path["path"])
    assert webhook_paths() == to_rasa == {"/webhooks/telegram/webhook", "/webhooks/whatsapp/webhook",
                                         "/webhooks/messenger/webhook"}
    assert "/" in to_gateway
    for process in VALUES:
        assert sorted(d["kind"] for d in rendered(process)) == ["Deployment", "Service"], \
            "the chart makes no Ingress, no sidecar, nothing but the process and its Service"
    for service in of_kind("Service"):
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"


def test_the_chart_lints_and_renders_each_values_file_as_written():
    """helm lint passes; the rendered Deployment carries each values file's
    image, command, variables, labels and replicas (a key the chart does not
    read would be dropped silently: every top-level key is one it reads)."""
    pin = pinned(ROOT / "requirements-k8s.txt")["helm-binary"].split(".post")[0]
    assert helm("version", "--short").startswith(f"v{pin}+"), "the helm of requirements-k8s.txt"
    chart_defaults = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    for process, values_file in VALUES.items():
        helm("lint", "--strict", str(CHART), "-f", str(HELM / values_file))
        v = values(values_file)
        assert set(v) <= set(chart_defaults), f"{values_file}: keys the chart ignores: {set(v) - set(chart_defaults)}"
        deployment = one("Deployment", release(process))
        assert deployment["spec"]["replicas"] == v["replicaCount"] >= 2, "several pods (issue 14)"
        c = container(process)
        assert c["image"] == f"{v['registry']}/{v['image']['name']}:{v['image']['tag']}"
        assert c.get("command", []) == v["command"] and c.get("args", []) == v["args"]
        assert c.get("env", []) == (v["extraEnv"] or [])
        assert v["podLabels"].items() <= pod_labels(process).items()
        assert pod_template(process)["spec"]["automountServiceAccountToken"] is False


def test_the_chart_refuses_values_without_an_image(tmp_path):
    broken = dict(values("action-server-values.yaml"), image={"name": "", "tag": "v1"})
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    import subprocess

    result = subprocess.run([str(HELM_BIN), "template", "x", str(CHART), "-f", str(path)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode != 0 and "image.name is required" in result.stderr


def test_all_images_are_one_release():
    images = {
        "rasa": container("rasa")["image"],
        "actions": container("actions")["image"],
        "gateway": container("gateway")["image"],
        "retention": container("retention")["image"],
    }
    tags = {image.rsplit(":", 1)[1] for image in images.values()}
    registries = {image.rsplit(":", 1)[0].rsplit("/", 1)[0] for image in images.values()}
    assert len(tags) == 1 and len(registries) == 1, images
    assert images["gateway"].rsplit(":", 1)[0].endswith("/gateway")
    assert images["actions"].rsplit(":", 1)[0].endswith("/actions")
    assert images["retention"] == images["rasa"]


def peers(rules: List[Dict[str, Any]], direction: str) -> Dict[str, Set[int]]:
    """component (or ns:NAME, db:NAME, any) -> ports, for ingress 'from' / egress 'to'."""
    found: Dict[str, Set[int]] = {}
    for rule in rules:
        ports = {p["port"] for p in rule.get("ports", [])}
        for peer in rule.get(direction, []):
            if "ipBlock" in peer:
                key = "internet"
            elif "namespaceSelector" in peer and "podSelector" not in peer:
                key = "ns:" + peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            elif "namespaceSelector" in peer:
                key = "dns"
            else:
                labels = peer["podSelector"]["matchLabels"]
                key = labels.get("app.kubernetes.io/component") or "db:" + labels["app.kubernetes.io/name"]
            found.setdefault(key, set()).update(ports)
    return found


def policies_for(selector: Dict[str, str]) -> List[Dict[str, Any]]:
    return [p for p in of_kind("NetworkPolicy") if p["spec"]["podSelector"]["matchLabels"] == selector]


def component_selector(process: str) -> Dict[str, str]:
    return {"app.kubernetes.io/part-of": "helpline", "app.kubernetes.io/component": COMPONENT[process]}


def test_every_pod_carries_the_labels_the_policies_select():
    for process in COMPONENT:
        assert component_selector(process).items() <= pod_labels(process).items(), process
    known = [component_selector(p) for p in COMPONENT]
    for policy in of_kind("NetworkPolicy"):
        selector = policy["spec"]["podSelector"]["matchLabels"]
        if selector.get("app.kubernetes.io/name") in ("postgresql", "redis"):
            continue
        assert selector == {"app.kubernetes.io/part-of": "helpline"} or selector in known, policy["metadata"]["name"]


def test_network_policies_allow_only_the_arrows_of_the_readme():
    deny = one("NetworkPolicy", "helpline-default-deny")
    assert deny["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/part-of": "helpline"}
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"], "default deny"

    def allowed(process: str, direction: str) -> Dict[str, Set[int]]:
        merged: Dict[str, Set[int]] = {}
        for policy in policies_for(component_selector(process)):
            key = "from" if direction == "ingress" else "to"
            for peer, ports in peers(policy["spec"].get(direction, []), key).items():
                merged.setdefault(peer, set()).update(ports)
        return merged

    assert allowed("gateway", "ingress") == {"ns:ingress-nginx": {PORTS["gateway"]}}
    assert allowed("gateway", "egress") == {"rasa": {PORTS["rasa"]}}
    assert allowed("rasa", "ingress") == {"gateway": {PORTS["rasa"]}, "ns:ingress-nginx": {PORTS["rasa"]}}
    rasa_out = allowed("rasa", "egress")
    assert rasa_out.pop("action-server") == {PORTS["actions"]}
    assert rasa_out.pop("db:postgresql") == {DB_PORT} and rasa_out.pop("db:redis") == {REDIS_PORT}
    assert set(rasa_out) <= {"internet"} and rasa_out.get("internet", {443}) == {443}
    assert allowed("actions", "ingress") == {"rasa": {PORTS["actions"]}}, "the action server: from Rasa only"
    assert not allowed("actions", "egress")
    assert allowed("retention", "egress") == {"db:postgresql": {DB_PORT}}

    for name, port, sources in (("postgresql", DB_PORT, {"rasa", "retention"}), ("redis", REDIS_PORT, {"rasa", "retention"})):
        (policy,) = [p for p in of_kind("NetworkPolicy")
                     if p["spec"]["podSelector"]["matchLabels"].get("app.kubernetes.io/name") == name]
        inbound = peers(policy["spec"]["ingress"], "from")
        assert set(inbound) <= sources and all(ports == {port} for ports in inbound.values()), name


# ---------------------------------------------------------------------------
# No secrets


def walk(node: Any, path: str = "") -> Iterator[Tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_no_secret_is_written_in_a_yaml_file(path):
    for doc in documents(path):
        assert doc.get("kind") != "Secret", "Secrets are created with kubectl or a secret manager"
        for where, node in walk(doc):
            if isinstance(node, dict) and "name" in node and ("value" in node or "valueFrom" in node):
                if SECRET_NAME.search(str(node["name"])):  # an environment variable
                    assert "value" not in node, f"{path.name}{where}: {node['name']} needs a secretKeyRef"
                    assert "secretKeyRef" in node["valueFrom"], f"{path.name}{where}"
            if isinstance(node, dict):
                for key, value in node.items():
                    if SECRET_KEY.match(str(key)) and isinstance(value, str):
                        assert value == "", f"{path.name}{where}.{key}: a secret value"


def test_no_secret_looking_text_anywhere_in_deploy():
    for path in deploy_files():
        text = path.read_text(encoding="utf-8")
        for pattern in SECRET_TEXT:
            match = pattern.search(text)
            assert not match, f"{path.relative_to(ROOT)}: {match.group(0)[:24]}…"
    for image in IMAGES:
        for keyword in ("ENV", "ARG"):
            for rest in instruction_all(image, keyword):
                for word in shlex.split(rest):
                    name = word.partition("=")[0]
                    assert not SECRET_NAME.search(name), f"{IMAGES[image]}: {keyword} {name}"


# ---------------------------------------------------------------------------
# The operator's guide


def test_the_readme_covers_every_file_and_installs_the_chart():
    text = README.read_text(encoding="utf-8")
    for path in deploy_files():
        relative = path.relative_to(DEPLOY).as_posix()
        if path == README or relative.endswith(".dockerignore") or CHART in path.parents:
            continue
        assert f"`{relative}`" in text, f"deploy/README.md does not mention {relative}"
    assert "docker/*.Dockerfile.dockerignore" in text and "`helm/chart/`" in text
    for process, values_file in VALUES.items():
        command = f"helm install {release(process)} deploy/helm/chart -n helpline -f deploy/helm/{values_file}"
        assert command in (HELM / values_file).read_text(encoding="utf-8"), \
            f"{values_file} names the same release as the README"
        assert command in (CHART / "Chart.yaml").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# Against the Kubernetes API schemas, offline: kubernetes-validate (pinned in
# requirements-k8s.txt, in its own venv .venv/k8s that `make test` builds)
# bundles the schemas of each Kubernetes version. --strict: an unknown field
# is an error. K8S_VERSION: the oldest minor version maintained upstream when
# it was chosen (1.35 to 1.37), so a field newer than that fails here too.

K8S_VERSION = "1.35"
K8S_VALIDATE = ROOT / ".venv" / "k8s" / "bin" / "kubernetes-validate"
CHART_VALUES = set(VALUES.values())  # values of the chart (deploy/helm/chart), not manifests


def kubernetes_validate(paths: List[Path]) -> Tuple[int, List[str], List[str]]:
    """Exit code, the "kind/name" of each document that passed, and every other line it printed."""
    import subprocess

    assert K8S_VALIDATE.is_file(), f"{K8S_VALIDATE} is missing: `make .venv/k8s/.ok` (part of `make test`)"
    version = subprocess.run([str(K8S_VALIDATE), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == pinned(ROOT / "requirements-k8s.txt")["kubernetes-validate"]
    result = subprocess.run(
        [str(K8S_VALIDATE), "--strict", "--kubernetes-version", K8S_VERSION, *map(str, paths)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    ok = re.compile(rf"INFO \S+ passed for resource (\S+) against version {re.escape(K8S_VERSION)}")
    passed = [m.group(1) for m in map(ok.fullmatch, lines) if m]
    return result.returncode, passed, [line for line in lines if not ok.fullmatch(line)]


def resource_ids(docs: List[Dict[str, Any]]) -> List[str]:
    return sorted(f"{d['kind'].lower()}/{d['metadata']['name']}" for d in docs)


def test_every_manifest_is_valid_against_the_kubernetes_api_schemas(tmp_path):
    """The plain manifests and what the chart renders from each values file."""
    assert {p.name for p in yaml_files()} >= CHART_VALUES
    paths = [p for p in yaml_files() if p.name not in CHART_VALUES]
    assert {p.name for p in paths} >= {"gateway.yaml", "network-policies.yaml", "retention-cronjob.yaml"}
    docs = [d for p in paths for d in documents(p)]
    assert all("kind" in d and "apiVersion" in d for d in docs), "a YAML file that is not chart values is a manifest"
    for process in VALUES:
        path = tmp_path / f"{release(process)}.yaml"
        path.write_text(yaml.safe_dump_all(list(rendered(process)), sort_keys=False), encoding="utf-8")
        paths.append(path)
        docs.extend(rendered(process))
    code, passed, problems = kubernetes_validate(paths)
    assert (code, problems) == (0, []), "\n".join(problems)
    # Each document by name: an unknown kind or apiVersion is only a warning
    # (exit code 0) for kubernetes-validate, and then it is not "passed".
    assert sorted(passed) == resource_ids(docs)


BREAKAGES = {
    "misspelt field": lambda d: d["spec"].update(replica=d["spec"].pop("replicas")),
    "misspelt container field": lambda d: d["spec"]["template"]["spec"]["containers"][0].update(imagePullPolicyy="Always"),
    "wrong type": lambda d: d["spec"].update(replicas="two"),
    "unknown kind": lambda d: d.update(kind="Deploymnt"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_the_schema_validation_fails_on_a_broken_manifest(breakage, tmp_path):
    good = one("Deployment", "helpline-gateway")
    broken = json.loads(json.dumps(good))  # a deep copy: documents() is cached
    BREAKAGES[breakage](broken)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump_all([good, broken], sort_keys=False), encoding="utf-8")
    code, passed, problems = kubernetes_validate([path])
    assert passed == ["deployment/helpline-gateway"], "only the unbroken copy passes"
    assert problems, "kubernetes-validate said nothing about the broken copy"
    if breakage != "unknown kind":
        assert code != 0 and any(line.startswith("ERROR ") for line in problems), problems


def test_the_gateway_runs_in_its_own_venv_on_what_that_venv_has():
    """The gateway imports, in .venv/gateway (current aiohttp, no Rasa), and
    every third-party module it loads there is pinned in
    requirements-gateway.txt: an import of Rasa-side code fails here, not in a pod."""
    import os
    import subprocess

    probe = (
        "import sys, bot.gateway\n"
        "from importlib import metadata\n"
        "found = metadata.packages_distributions()\n"
        "print(' '.join(sorted({d for m in list(sys.modules) for d in found.get(m.split('.')[0], [])})))\n"
    )
    result = subprocess.run(
        [str(GATEWAY_PYTHON), "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = {norm(d) for d in result.stdout.split()} - {"pip", "setuptools"}  # the venv's own tools
    assert "aiohttp" in loaded
    assert not loaded & {"rasa", "rasa-sdk", "sanic", "tensorflow", "scikit-learn", "numpy"}
    assert loaded <= set(pinned(ROOT / "requirements-gateway.txt")), loaded
