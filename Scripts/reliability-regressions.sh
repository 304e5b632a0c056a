#!/usr/bin/env bash
# Runs the command-line reproductions of the reliability defects against two videossl binaries —
# an older one and the current one — and prints each outcome side by side: the exit status and the
# first line of the message. A signal shows as status 128+N (132 SIGILL, 134 SIGABRT, 139 SIGSEGV).
#
#   Scripts/reliability-regressions.sh OLD_VIDEOSSL [NEW_VIDEOSSL]    (NEW defaults to .build/release/videossl)
#
# Needs python3 with torch (to write the crafted checkpoint and clip files) and writes into a
# temporary folder only.
set -uo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: Scripts/reliability-regressions.sh OLD_VIDEOSSL [NEW_VIDEOSSL]}
new=${2:-.build/release/videossl}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$new" make-synthetic --output "$work/data" --size 32 --frames 8 --per-class 2 --val-per-class 1 > /dev/null
python3 - "$work" <<'PY'
import sys, torch, safetensors.torch as st
w = sys.argv[1]
# A list nested 50,000 deep inside a torch.save archive (the unpickler's stack): EMPTY_LIST × n,
# APPEND × (n − 1), STOP.
import zipfile
data = b"\x80\x02" + b"]" * 50000 + b"a" * 49999 + b"."
with zipfile.ZipFile(f"{w}/deep.pth", "w") as z:
    z.writestr("archive/data.pkl", data)
    z.writestr("archive/version", "3\n")
# A clip whose sides are not a multiple of the patch, and one with no frames.
st.save_file({"clip": torch.rand(1, 8, 3, 50, 50)}, f"{w}/odd.safetensors")
st.save_file({"clip": torch.rand(1, 0, 3, 112, 112)}, f"{w}/empty.safetensors")
PY
video="$work/data/$(head -1 "$work/data/train.txt" | cut -d' ' -f1)"
# A playlist naming a real local file by absolute path: a reader that follows it opens that file.
printf '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n%s\n#EXT-X-ENDLIST\n' "$video" > "$work/playlist.mp4"
mkdir -p "$work/a_directory.mp4"
cat > "$work/recipe.yaml" <<YAML
model: {name: timesformer_tiny_8x112, overrides: {img_size: 32, patch_size: 8, embed_dim: 24, depth: 1, num_heads: 2}}
data: {root: $work/data, train: train.txt, frames: 4, decode_size: [32, 32], scale_jitter: [32, 36], crop: 32, workers: 1}
objective: {kind: time}
train: {epochs: 1, batch_size: 4, max_steps: 1}
output_dir: $work/run
YAML

cases=(
  "4 negative clip_grad_norm|train --config $work/recipe.yaml train.clip_grad_norm=-1 output_dir=$work/run-neg"
  "4 empty override value|train --config $work/recipe.yaml optimizer.lr= output_dir=$work/run-empty"
  "5 clip sides not a multiple of the patch|infer --model timesformer_tiny_8x112 --input $work/odd.safetensors --output $work/o1.safetensors"
  "5 clip with no frames|infer --model timesformer_tiny_8x112 --input $work/empty.safetensors --output $work/o2.safetensors"
  "5 eval --size 30|eval --model timesformer_tiny_8x112 --list $work/data/val.txt --root $work/data --size 30"
  "5 decode --size 65536x65536|decode --input $video --indices 0 --size 65536x65536 --output $work/f.safetensors"
  "5 data.frames: 1 under TIME|train --config $work/recipe.yaml data.frames=1 output_dir=$work/run-one"
  "6 checkpoint nested 50,000 deep|convert --input $work/deep.pth --output $work/deep.safetensors"
  "8 HLS playlist named .mp4|decode --input $work/playlist.mp4 --indices 0 --output $work/p.safetensors"
  "11 a directory given as a video|decode --input $work/a_directory.mp4 --indices 0 --output $work/d.safetensors"
)
printf '%-42s | %-40s | %s\n' "defect" "older binary" "this binary"
for entry in "${cases[@]}"; do
  name=${entry%%|*}; args=${entry#*|}
  outcome() {
    local out status
    out=$(timeout 120 "$1" $args 2>&1); status=$?
    local line
    line=$(printf '%s' "$out" | grep -m1 -E 'Error|error|Fatal|fault' || printf '%s' "$out" | grep -v '^\s*$' | tail -1)
    printf 'exit %s: %s' "$status" "$(printf '%s' "$line" | sed "s|$work/||g" | cut -c1-70)"
  }
  printf '%-42s | %-40s | %s\n' "$name" "$(outcome "$old" | cut -c1-40)" "$(outcome "$new" | cut -c1-100)"
done
