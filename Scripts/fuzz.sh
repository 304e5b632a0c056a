#!/usr/bin/env bash
# libFuzzer over VideoSSL's parsers of outside data: safetensors, checkpoint archives (zip +
# restricted unpickler), YAML recipes, and dataset lists / label JSON / class files.
#
#   Scripts/fuzz.sh                 1,000,000 executions per target (the release figure)
#   Scripts/fuzz.sh 50000           another count per target
#   Scripts/fuzz.sh --smoke         10 seconds per target (CI: under a minute in all)
#
# Memory errors stop a run (AddressSanitizer); leaks are checked by Scripts/sanitize.sh instead,
# since a leak check per input would slow fuzzing tenfold.
#
# The targets live in Fuzz/ (a separate package, so the main package carries no compiler flags) and
# are built with AddressSanitizer. Seeds are the repository's own fixtures, configs and small
# generated lists; new findings are kept in Fuzz/corpus/<target>/ (ignored by git). A crash leaves
# its input in Fuzz/ and stops the script with a non-zero status.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=1000000
limit=()
if [ "${1:-}" = "--smoke" ]; then limit=(-max_total_time=10); runs=-1
elif [ -n "${1:-}" ]; then runs=$1; fi

(cd Fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address)
bin="$root/Fuzz/.build/release"

seeds="$root/Fuzz/corpus"
mkdir -p "$seeds"/{safetensors,checkpoint,recipe,lists}
cp Tests/TensorCoreTests/Fixtures/*.safetensors Tests/TrainingTests/Fixtures/pretrained/*.safetensors "$seeds/safetensors/"
cp Tests/VideoTransformersTests/Fixtures/checkpoints/* Tests/TrainingTests/Fixtures/pretrained/*.pth \
   Tests/TrainingTests/Fixtures/pretrained/*.pyth Tests/TrainingTests/Fixtures/svt_checkpoints/*.pth \
   "$seeds/checkpoint/" 2>/dev/null || true
find configs -name '*.yaml' -exec cp {} "$seeds/recipe/" \;
printf 'videos/a b.mp4 3\nvideos/c.mp4 0\r\n\n' > "$seeds/lists/pathlabel.txt"
printf 'frames/v1 16 2\nframes/v2 8 0\n' > "$seeds/lists/frames.txt"
printf 'moving_left\nmoving_right\nred\n' > "$seeds/lists/classes.txt"
printf '{"a": "temporal", "b": "static", "2": "static"}' > "$seeds/lists/subsets.json"
printf '{"Putting something on a surface": "0", "Pushing something": "1"}' > "$seeds/lists/ssv2_labels.json"
printf '[{"id": "1", "template": "Putting [something] on a surface"}]' > "$seeds/lists/ssv2_annotations.json"

export LSAN_OPTIONS="suppressions=$root/Fuzz/lsan.supp:print_suppressions=0"
status=0
for target in SafeTensors:safetensors Checkpoint:checkpoint Recipe:recipe Lists:lists; do
    name=${target%%:*}; corpus=${target##*:}
    echo "== Fuzz$name ($corpus) =="
    # -detect_leaks=0: leak checks per input dominate the run time; Scripts/sanitize.sh checks leaks.
    (cd Fuzz && "$bin/Fuzz$name" "$seeds/$corpus" -runs="$runs" "${limit[@]}" -max_len=65536 -detect_leaks=0 \
        -print_final_stats=1 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done|==[0-9]+==ERROR|SUMMARY)" ) \
        || status=1
done
exit $status
