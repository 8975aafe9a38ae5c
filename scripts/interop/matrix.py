"""The interop suite's report: a matrix of the results `interop.sh` gathered, the failures in
full, the run time, and the closing line `interop: N passed, M failed`. Exits 1 if any failed.

Usage: python matrix.py RESULTS.txt SECONDS

RESULTS.txt holds `PASS <name> ...` / `FAIL <name> ...` lines. A case is named
`<server>.<provider>.<case>`; a body check `validate.<server>.<provider>.<case>#<n>`; a
strictness control `validate.control.<endpoint>.<what>`; anything else (a setup step) is listed
as it is.
"""

import sys

CASES = ["plain", "stream", "pause-continue", "pause-continue-stream", "max-tokens", "max-tokens-stream"]
ROUTES = {
    "litellm.openai-chat": "/v1/chat/completions -> upstream /v1/messages",
    "litellm.anthropic": "/v1/messages -> upstream /v1/chat/completions",
    "litellm.openai-responses": "/v1/responses -> upstream /v1/messages",
    "llama.openai-chat": "/v1/chat/completions (Gemma 3 270M)",
}


def main(path, seconds):
    results = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            verdict, _, rest = line.strip().partition(" ")
            if verdict in ("PASS", "FAIL"):
                name = rest.split(" ", 1)[0]
                results.append((verdict, name, line.strip()))

    cells = {}  # (row, column) -> [passed, failed]
    others = []
    for verdict, name, line in results:
        parts = name.split(".")
        if parts[0] == "validate" and len(parts) >= 4 and parts[1] != "control":
            row, column = ".".join(parts[1:3]), "bodies valid"
        elif parts[0] == "validate" and parts[1] == "control":
            row, column = "SDK strictness controls", "refused"
        elif len(parts) == 3 and parts[0] in ("litellm", "llama"):
            row, column = ".".join(parts[:2]), parts[2]
        else:
            others.append((verdict, line))
            continue
        count = cells.setdefault((row, column), [0, 0])
        count[verdict == "FAIL"] += 1

    columns = [c for c in CASES if any(col == c for _, col in cells)] + ["bodies valid"]
    rows = [r for r in ROUTES if any(row == r for row, _ in cells)]
    rows += sorted({row for row, _ in cells if row not in ROUTES and row != "SDK strictness controls"})

    def cell(row, column):
        passed, failed = cells.get((row, column), (0, 0))
        if passed + failed == 0:
            return "-"
        if column == "bodies valid":
            return "%d/%d" % (passed, passed + failed)
        return "FAIL" if failed else "ok"

    width = max([len(r) for r in rows] + [24])
    print("interop matrix (kern provider -> server under test; ok = passed, - = not applicable)")
    print("  " + "server.provider".ljust(width) + "  " + "  ".join(columns) + "   route")
    for row in rows:
        line = "  " + row.ljust(width)
        for column in columns:
            line += "  " + cell(row, column).center(len(column))
        print(line + "   " + ROUTES.get(row, ""))
    controls = cells.get(("SDK strictness controls", "refused"))
    if controls:
        print(
            "  SDK strictness controls: %d of %d broken bodies refused"
            % (controls[0], controls[0] + controls[1])
        )
    for verdict, line in others:
        print("  " + line)

    failures = [line for verdict, _, line in results if verdict == "FAIL"]
    if failures:
        print("failures:")
        for line in failures:
            print("  " + line)
    passed = sum(1 for v, _, _ in results if v == "PASS")
    failed = len(failures)
    print("interop: run time %s s" % seconds)
    print("interop: %d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
