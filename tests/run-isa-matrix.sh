#!/usr/bin/env bash
# Runs the Kernels tests (every length 0..256 against the naive twins) once per instruction-set level:
# all (AVX-512 here), no Vector512 (DOTNET_EnableAVX512=0), no AVX2 (Vector128 only), and scalar (DOTNET_EnableHWIntrinsic=0).
# Usage: tests/run-isa-matrix.sh [extra dotnet test args]; exits non-zero if any level fails.
set -uo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Crema.Tests -nologo -v q -clp:ErrorsOnly || exit 1
status=0
for level in "default" "DOTNET_EnableAVX512=0" "DOTNET_EnableAVX2=0" "DOTNET_EnableHWIntrinsic=0"; do
  vars=(); [ "$level" != "default" ] && vars=("$level")
  echo "== Kernels tests, $level"
  out="$(env "${vars[@]}" dotnet test tests/Crema.Tests --no-build --filter "FullyQualifiedName~Crema.Tests.Kernels" "$@" 2>&1)"
  rc=$?
  echo "$out" | grep -E "Passed!|Failed!|error" | tail -n 5
  [ $rc -ne 0 ] && status=1
done
[ $status -eq 0 ] && echo "ISA matrix: all levels passed" || echo "ISA matrix: FAILED"
exit $status
