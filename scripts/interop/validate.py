"""Checks every request body the interop suite recorded against the official SDKs' own request
types: `openai.types.chat.CompletionCreateParams` for `/v1/chat/completions`,
`openai.types.responses.ResponseCreateParams` for `/v1/responses` and
`anthropic.types.MessageCreateParams` for `/v1/messages` (the streaming or non-streaming variant,
by the body's `stream`).

The SDKs' types are TypedDicts; pydantic validates them, made strict here: every TypedDict of
both SDKs forbids keys it does not declare (so a misspelt or invented field fails) and takes no
coercion (a number where a string belongs fails). Pydantic checks an `Iterable[...]` field only
as it is consumed, so every one is consumed. Before the recorded bodies, a control: a good body
with an unknown field, with a mistyped field and with a bad nested value must each be refused,
or the validation proves nothing.

Prints `PASS`/`FAIL` lines (one per body, one per control); exits 1 if any failed.

Usage: python validate.py RECORDED.jsonl [MORE.jsonl ...]
"""

import copy
import importlib
import json
import pkgutil
import sys

import anthropic
import openai
import pydantic
from pydantic import ConfigDict, TypeAdapter
from typing_extensions import is_typeddict

# arbitrary_types_allowed: a few upload types hold `IO[bytes]`, which no JSON body has anyway.
STRICT = ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True)


def make_strict(package):
    """Every TypedDict and model under `package.types` forbids unknown keys and coercion. The
    models matter too: a few request unions also take a response model (Anthropic's message
    content takes a `ContentBlock`), which would otherwise accept any extra key."""
    types = importlib.import_module(package.__name__ + ".types")
    count = 0
    models = []
    for info in pkgutil.walk_packages(types.__path__, types.__name__ + "."):
        try:
            module = importlib.import_module(info.name)
        except Exception:  # a module needing an optional extra: not one of ours
            continue
        for value in vars(module).values():
            if not isinstance(value, type) or value.__module__ != module.__name__:
                continue
            if is_typeddict(value):
                value.__pydantic_config__ = STRICT
                count += 1
            elif issubclass(value, pydantic.BaseModel):
                value.model_config = dict(value.model_config, **STRICT)
                models.append(value)
    for model in models:
        model.model_rebuild(force=True)
    return count + len(models)


def consume(value):
    """The value with every lazily validated iterable consumed (that is when it is checked)."""
    if isinstance(value, dict):
        return {k: consume(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [consume(v) for v in value]
    if isinstance(value, (str, bytes)) or not hasattr(value, "__next__"):
        return value
    return [consume(v) for v in value]


def adapters():
    from anthropic.types import message_create_params as amcp
    from openai.types.chat import completion_create_params as occp
    from openai.types.responses import response_create_params as orcp

    pick = lambda plain, streamed: {False: TypeAdapter(plain), True: TypeAdapter(streamed)}
    return {
        "/v1/chat/completions": (
            "openai %s chat.CompletionCreateParams" % openai.__version__,
            pick(occp.CompletionCreateParamsNonStreaming, occp.CompletionCreateParamsStreaming),
        ),
        "/v1/responses": (
            "openai %s responses.ResponseCreateParams" % openai.__version__,
            pick(orcp.ResponseCreateParamsNonStreaming, orcp.ResponseCreateParamsStreaming),
        ),
        "/v1/messages": (
            "anthropic %s MessageCreateParams" % anthropic.__version__,
            pick(amcp.MessageCreateParamsNonStreaming, amcp.MessageCreateParamsStreaming),
        ),
    }


def errors_of(adapter_pair, body):
    """None if the body is valid, else a short account of its errors."""
    adapter = adapter_pair[bool(body.get("stream"))]
    try:
        consume(adapter.validate_python(body))
        return None
    except pydantic.ValidationError as e:
        return "; ".join(
            "%s: %s" % (".".join(str(p) for p in err["loc"]), err["msg"]) for err in e.errors()[:4]
        )


def controls(path, body):
    """Broken copies of a valid body that must be refused: (name, body)."""
    unknown = dict(body, max_tokenz=16)
    mistyped = dict(body, model=42)
    nested = copy.deepcopy(body)
    items = nested.get("messages") or nested.get("input")
    if isinstance(items, list) and items and isinstance(items[0], dict):
        items[0]["rolle"] = items[0].pop("role", "user")
    else:
        nested["stream_options"] = {"include_usage": "yes"}
    return [("unknown-field", unknown), ("mistyped-field", mistyped), ("nested-unknown-key", nested)]


def main(paths):
    n_strict = make_strict(openai) + make_strict(anthropic)
    table = adapters()
    records = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            records.extend(json.loads(line) for line in f if line.strip())
    failed = 0
    print("INFO validate: %d SDK types made strict; %d recorded bodies" % (n_strict, len(records)))

    # The controls, on the first valid body of each endpoint.
    seen = set()
    for record in records:
        path, body = record["path"], record["body"]
        if path in seen or path not in table or errors_of(table[path][1], body):
            continue
        seen.add(path)
        for name, broken in controls(path, body):
            label = "validate.control%s.%s" % (path.replace("/", "."), name)
            if errors_of(table[path][1], broken):
                print("PASS %s refused by %s" % (label, table[path][0]))
            else:
                failed += 1
                print("FAIL %s accepted by %s: the validation is not strict" % (label, table[path][0]))

    counts = {}
    for record in records:
        case, path, body = record["case"] or "(no case)", record["path"], record["body"]
        counts[case] = counts.get(case, 0) + 1
        label = "validate.%s#%d" % (case, counts[case])
        if path not in table:
            failed += 1
            print("FAIL %s %s: no SDK type for this path" % (label, path))
            continue
        sdk, pair = table[path]
        problems = errors_of(pair, body)
        if problems:
            failed += 1
            print("FAIL %s %s against %s: %s" % (label, path, sdk, problems))
        else:
            print("PASS %s %s is a valid %s" % (label, path, sdk))
    if not records:
        failed += 1
        print("FAIL validate: nothing was recorded")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
