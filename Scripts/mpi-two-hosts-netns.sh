#!/usr/bin/env bash
# Two "hosts" on one machine: network namespaces vssl-a (10.77.0.1) and vssl-b (10.77.0.2) joined
# by a veth pair, and `mpirun -np 2` across them over TCP — the ranks share no memory transport,
# only the network, as on two real machines. Open MPI starts its daemon on the second "host"
# through an rsh agent that enters the namespace (`ip netns exec`) instead of ssh.
#
# Usage (root; the build must exist):
#   Scripts/mpi-two-hosts-netns.sh [recipe.yaml] [extra videossl train arguments…]
# Without a recipe a tiny supervised run on a synthetic dataset is made under /tmp.
#
# On real machines the same run is
#   mpirun -np 2 --host hostA,hostB --mca btl tcp,self --mca btl_tcp_if_include eth0 \
#       --bind-to none /path/videossl train --config recipe.yaml
# with passwordless ssh between the hosts, the same videossl path on both, and output_dir (and
# the data) on a filesystem every host sees (rank 0 writes checkpoints; every rank reads the one it
# resumes from).
set -euo pipefail
cd "$(dirname "$0")/.."
videossl="$PWD/.build/release/videossl"
[ -x "$videossl" ] || { echo "error: build first (swift build -c release)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "error: network namespaces need root" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "error: mpirun missing (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 1; }

work=$(mktemp -d /tmp/videossl-netns.XXXXXX)
agent="$work/netns-agent.sh"
cleanup() {
    ip netns del vssl-a 2>/dev/null || true
    ip netns del vssl-b 2>/dev/null || true
}
trap cleanup EXIT
cleanup

ip netns add vssl-a
ip netns add vssl-b
ip link add vssl-veth-a type veth peer name vssl-veth-b
ip link set vssl-veth-a netns vssl-a
ip link set vssl-veth-b netns vssl-b
ip -n vssl-a addr add 10.77.0.1/24 dev vssl-veth-a
ip -n vssl-b addr add 10.77.0.2/24 dev vssl-veth-b
for ns in vssl-a vssl-b; do
    ip -n $ns link set lo up
done
ip -n vssl-a link set vssl-veth-a up
ip -n vssl-b link set vssl-veth-b up
echo "namespaces vssl-a (10.77.0.1) and vssl-b (10.77.0.2) joined by a veth pair"

# The rsh agent Open MPI calls as `agent [options] HOST COMMAND…`: HOST names the namespace.
cat > "$agent" <<'AGENT'
#!/usr/bin/env bash
while [[ "$1" == -* ]]; do shift; done
host=$1; shift
case "$host" in
    10.77.0.1) ns=vssl-a ;;
    10.77.0.2) ns=vssl-b ;;
    *) echo "netns-agent: unknown host $host" >&2; exit 1 ;;
esac
exec ip netns exec "$ns" /bin/sh -c "$*"
AGENT
chmod +x "$agent"

recipe=${1:-}
[ $# -gt 0 ] && shift
own_recipe=false
if [ -z "$recipe" ]; then
    own_recipe=true
    "$videossl" make-synthetic --output "$work/data" --size 32 --frames 8 --per-class 2 --val-per-class 0 >/dev/null
    recipe="$work/recipe.yaml"
    cat > "$recipe" <<YAML
model:
  name: timesformer_tiny_8x112
  overrides: {img_size: 32, patch_size: 8, embed_dim: 24, depth: 1, num_heads: 2}
data: {root: $work/data, train: train.txt, frames: 4, decode_size: [32, 32], crop: 32, workers: 1}
objective: {kind: supervised}
optimizer: {lr: 1.0e-3}
train: {epochs: 2, batch_size: 2, checkpoint_every: 100}
seed: 3
output_dir: $work/run
YAML
fi

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
set -x
ip netns exec vssl-a mpirun -np 2 --host 10.77.0.1:1,10.77.0.2:1 --oversubscribe --bind-to none \
    --mca plm_rsh_agent "$agent" --mca btl tcp,self \
    --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
    -x PATH \
    "$videossl" train --config "$recipe" --threads 1 "$@"
set +x
if $own_recipe; then
    # The same steps in one process with accumulation 2: the losses should agree to ~1e-7.
    "$videossl" train --config "$recipe" --distributed off --threads 1 train.accumulation=2 \
        output_dir="$work/single" >/dev/null
    echo "last step, two hosts:            $(tail -n 1 "$work/run/steps.jsonl")"
    echo "last step, one process, accum 2: $(tail -n 1 "$work/single/steps.jsonl")"
fi
