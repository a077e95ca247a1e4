#!/usr/bin/env bash
# scripts/check_usercode_gate.sh: fails when a file of src/ other than
# usercode.c calls user-definable code without the gate: fmgr calls of a
# looked-up function, the executor's expression evaluation, or the row/JSON
# conversions that look up a user's casts.  src/usercode.c says why.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='FunctionCallInvoke|ExecQual\(|ExecEvalExpr\(|ExecProject\(|OidFunctionCall|[^t]FunctionCall[0-9]|row_to_json'
found=$(grep -nE "$pattern" src/*.c | grep -v '^src/usercode\.c:' || true)
if [ -n "$found" ]; then
  echo "user code called outside src/usercode.c (use usercode_call, usercode_qual, usercode_eval, usercode_row_json):"
  echo "$found"
  exit 1
fi
echo "user-code gate: every call goes through src/usercode.c"
