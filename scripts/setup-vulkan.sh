#!/usr/bin/env bash
# Provides a software Vulkan driver (Mesa's lavapipe) for the WebGPU backend on machines
# without a GPU, without touching the system: the Debian packages are fetched with
# `apt-get download` through a private apt configuration and unpacked with `dpkg -x` into
# .vulkan/ (git-ignored). Debian 12's own Mesa 22.3 lavapipe gives Dawn no adapter (it
# lacks dynamic indexing of sampled-image arrays); Mesa 25 from bookworm-backports does.
#
# Writes .vulkan/vulkan.env (KEY=VALUE lines, shell-sourceable):
#   VK_ICD_FILENAMES       the unpacked lvp_icd.json, its library_path made absolute
#   LD_LIBRARY_PATH        the unpacked libraries (for tools started from a shell)
#   DRALAB_VULKAN_PRELOAD  libraries src/backend/webgpu.ts loads into the running process
#                          before Dawn starts, so no LD_LIBRARY_PATH or re-spawn is needed
#   DRALAB_VULKAN_LOADER   the unpacked Vulkan loader, preloaded only where the system
#                          has no libvulkan.so.1
#
# Usage: scripts/setup-vulkan.sh [--force]   (idempotent; a no-op once done)
# Needs: apt-get and dpkg (Debian/Ubuntu, amd64 or arm64) and access to deb.debian.org.
set -euo pipefail

root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vk_dir="${DRALAB_VULKAN_DIR:-$root_dir/.vulkan}"
env_file="$vk_dir/vulkan.env"
mirror="${DRALAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# Backports for Mesa 25 and the libdrm it needs; the Vulkan loader from bookworm itself.
packages=(
  mesa-vulkan-drivers/bookworm-backports
  libdrm2/bookworm-backports
  libdrm-amdgpu1/bookworm-backports
  libvulkan1/bookworm
)
stamp="v2 packages: ${packages[*]} mirror: $mirror"

fail() { echo "setup-vulkan: $*" >&2; exit 1; }

if [[ "${1:-}" != "--force" && -f "$env_file" && -f "$vk_dir/.stamp" && "$(cat "$vk_dir/.stamp")" == "$stamp" ]]; then
  # shellcheck disable=SC1090
  icd="$(sed -n 's/^VK_ICD_FILENAMES=//p' "$env_file")"
  if [[ -f "$icd" ]]; then
    echo "setup-vulkan: already set up ($env_file)"
    exit 0
  fi
fi

command -v apt-get >/dev/null || fail "apt-get not found: this script needs a Debian-based system"
command -v dpkg >/dev/null || fail "dpkg not found: this script needs a Debian-based system"
arch="$(dpkg --print-architecture)"
case "$arch" in
  amd64) triplet=x86_64-linux-gnu ;;
  arm64) triplet=aarch64-linux-gnu ;;
  *) fail "unsupported architecture '$arch' (expected amd64 or arm64)" ;;
esac

# Work in a fresh folder and swap it in at the end, so a failed run leaves nothing half-made.
work="$vk_dir.tmp.$$"
trap 'rm -rf "$work"' EXIT
rm -rf "$work"
mkdir -p "$work"/apt/{lists/partial,cache/archives/partial,sources.list.d,preferences.d} "$work/debs" "$work/root"
cat >"$work/apt/sources.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm-backports main
EOF
[[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] || fail "/usr/share/keyrings/debian-archive-keyring.gpg is missing (package debian-archive-keyring)"

apt_opts=(
  -o "Dir::Etc::SourceList=$work/apt/sources.list"
  -o "Dir::Etc::SourceParts=$work/apt/sources.list.d"
  -o "Dir::Etc::Preferences=$work/apt/preferences"
  -o "Dir::Etc::PreferencesParts=$work/apt/preferences.d"
  -o "Dir::State::Lists=$work/apt/lists"
  -o "Dir::Cache=$work/apt/cache"
  -o "Debug::NoLocking=1"
  # Files are written as the invoking user into a private folder; no _apt sandbox needed.
  -o "APT::Sandbox::User=$(id -un)"
  -o "APT::Architecture=$arch"
  -qq
)

echo "setup-vulkan: fetching package lists (bookworm, bookworm-backports)"
apt-get "${apt_opts[@]}" update || fail "apt-get update failed (is $mirror reachable?)"
echo "setup-vulkan: downloading ${packages[*]}"
(cd "$work/debs" && apt-get "${apt_opts[@]}" download "${packages[@]}") || fail "apt-get download failed"
for deb in "$work"/debs/*.deb; do
  dpkg -x "$deb" "$work/root"
done

lib_dir="$vk_dir/root/usr/lib/$triplet"
work_lib="$work/root/usr/lib/$triplet"
[[ -f "$work_lib/libvulkan_lvp.so" ]] || fail "libvulkan_lvp.so is not in the unpacked mesa-vulkan-drivers"
[[ -f "$work/root/usr/share/vulkan/icd.d/lvp_icd.json" ]] || fail "lvp_icd.json is not in the unpacked mesa-vulkan-drivers"

# lavapipe's other dependencies (LLVM, zstd, xcb, wayland...) come from the system; name
# any that are missing rather than fail later inside Dawn with no explanation.
missing="$(LD_LIBRARY_PATH="$work_lib" ldd "$work_lib/libvulkan_lvp.so" | awk '/not found/ {print $1}' | tr '\n' ' ')"
if [[ -n "$missing" ]]; then
  depends="$(dpkg-deb -f "$work"/debs/mesa-vulkan-drivers_*.deb Depends)"
  fail "libvulkan_lvp.so needs libraries this system lacks: $missing
  install them (e.g. apt-get install the packages among: $depends) and run this script again"
fi

# The ICD manifest names its library relative to the system paths; point it at ours.
sed "s#\"library_path\": *\"[^\"]*\"#\"library_path\": \"$lib_dir/libvulkan_lvp.so\"#" \
  "$work/root/usr/share/vulkan/icd.d/lvp_icd.json" >"$work/lvp_icd.json"
grep -q "\"$lib_dir/libvulkan_lvp.so\"" "$work/lvp_icd.json" || fail "could not rewrite library_path in lvp_icd.json"

cat >"$work/vulkan.env" <<EOF
VK_ICD_FILENAMES=$vk_dir/lvp_icd.json
LD_LIBRARY_PATH=$lib_dir
DRALAB_VULKAN_PRELOAD=$lib_dir/libdrm.so.2
DRALAB_VULKAN_LOADER=$lib_dir/libvulkan.so.1
EOF
echo "$stamp" >"$work/.stamp"
rm -rf "$work/apt/lists" "$work/apt/cache"

rm -rf "$vk_dir"
mv "$work" "$vk_dir"
trap - EXIT
mesa_version="$(dpkg-deb -f "$vk_dir"/debs/mesa-vulkan-drivers_*.deb Version)"
echo "setup-vulkan: lavapipe (Mesa $mesa_version) ready; environment in $env_file"
