#!/usr/bin/env bash
# build-bench.sh: builds the static library (CMake, sm_90 only) and links every cuda/tools/bench_*.cu
# against it into .gpu/bin/<name> (nvcc -arch=sm_90, static CUDA runtime). Needs nvcc and cmake; no GPU.
#   bash cuda/tools/build-bench.sh            # from the repository root (or anywhere)
# Environment: BUILD_DIR (default target/native-bench), ARCH (default 90), JOBS (default 4).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD_DIR=${BUILD_DIR:-target/native-bench}
ARCH=${ARCH:-90}
JOBS=${JOBS:-4}
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="${ARCH}-real" \
      -DCMAKE_CUDA_COMPILER="$NVCC" >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS"
LIB=$(find "$BUILD_DIR" -maxdepth 2 -name 'libattnkit_cuda.a' | head -n1)
if [ -z "$LIB" ]; then echo "build-bench.sh: libattnkit_cuda.a not found under $BUILD_DIR" >&2; exit 1; fi

mkdir -p .gpu/bin
shopt -s nullglob
built=0
for src in cuda/tools/bench_*.cu; do
    name=$(basename "$src" .cu)
    echo "build-bench.sh: $src -> .gpu/bin/$name"
    "$NVCC" -O3 -std=c++17 -arch=sm_"$ARCH" -cudart static --expt-relaxed-constexpr -lineinfo \
        -Icuda -Inative/include "$src" "$LIB" -o ".gpu/bin/$name"
    built=$((built + 1))
done
echo "build-bench.sh: $built benchmark(s) in .gpu/bin"
