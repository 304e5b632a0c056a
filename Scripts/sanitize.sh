#!/usr/bin/env bash
# AddressSanitizer and LeakSanitizer over decoding, the loader, checkpoints and short training runs:
# the matching test suites built with `swift test --sanitize=address` in a separate build folder
# (.build-asan), so the normal build is untouched. Leaks inside Foundation and one-time registries
# are suppressed (Fuzz/lsan.supp); any other leak or memory error fails the run.
#
#   Scripts/sanitize.sh             the default suites
#   Scripts/sanitize.sh 'Trainer'   a test filter of your own
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-"Decoding|BadInput|MalformedMedia|Loader|Trainer|Checkpoint|Run folders|Composition|Objective plug-in"}
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$(pwd)/Fuzz/lsan.supp:print_suppressions=0"
swift build --build-tests --sanitize=address --scratch-path .build-asan
# The memory-estimate tests read glibc's heap statistics, which AddressSanitizer's allocator
# replaces, so they are skipped here.
swift test --skip-build --sanitize=address --scratch-path .build-asan --filter "$filter" --skip "Estimate"
