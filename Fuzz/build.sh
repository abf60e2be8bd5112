#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/README.md) into .build-fuzz/fuzz-{wire,plan,csv}.
#
# SwiftPM compiles the modules under test, with their dependencies, with coverage
# instrumentation and AddressSanitizer in a scratch directory of their own (so the
# normal build never sees these flags); swiftc then compiles each harness against those
# modules and links it with libFuzzer, whose `main` drives `LLVMFuzzerTestOneInput`.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
SCRATCH=${FUZZ_SCRATCH:-.build-fuzz}
SANITIZE=-sanitize=fuzzer,address

# ThemeRegistry depends on every theme plugin (Package.swift's `themePlugins`), which
# depend on ThemeService, Wire and Plan: one build covers every module a harness needs.
"$SWIFT" build --scratch-path "$SCRATCH" -Xswiftc "$SANITIZE" --target ThemeRegistry
BIN=$("$SWIFT" build --scratch-path "$SCRATCH" --show-bin-path)

# The C modules the Swift modules import, as SwiftPM passes them.
CLANG=(-Xcc "-fmodule-map-file=Sources/CZeroMQ/module.modulemap")
for map in "$SCRATCH"/checkouts/Yams/Sources/CYaml/include/module.modulemap \
           "$SCRATCH"/checkouts/GRDB.swift/Sources/GRDBSQLite/module.modulemap; do
    CLANG+=(-Xcc "-fmodule-map-file=$map" -Xcc -I -Xcc "$(dirname "$map")")
done

harness() {  # NAME SOURCE MODULE... ; "ALL" links every module built here
    local name=$1 source=$2; shift 2
    local objs=() dirs=()
    if [ "$1" = ALL ]; then dirs=("$BIN"/*.build); else for m in "$@"; do dirs+=("$BIN/$m.build"); done; fi
    # Some object files have spaces in their names (swift-collections'): NUL-separated.
    mapfile -d '' objs < <(find "${dirs[@]}" -name '*.o' -print0)
    swiftc -use-ld=lld "$SANITIZE" -parse-as-library -g -Onone -swift-version 6 -I "$BIN/Modules" "${CLANG[@]}" \
        "$source" "${objs[@]}" -lzmq -lsqlite3 -o "$SCRATCH/fuzz-$name"
    echo "built $SCRATCH/fuzz-$name"
}

# Plan hashes plan files for its compiled cache with swift-crypto (SHA-256).
CRYPTO=(Crypto CryptoBoringWrapper CCryptoBoringSSL CCryptoBoringSSLShims)
harness wire Fuzz/WireFuzz.swift Wire Plan BuiltInPlans Yams CYaml "${CRYPTO[@]}"
harness plan Fuzz/PlanFuzz.swift Plan BuiltInPlans Yams CYaml "${CRYPTO[@]}"
harness csv Fuzz/CSVFuzz.swift ALL
