#!/usr/bin/env bash
# The crate as crates.io and docs.rs would get it. docs.rs's build (Cargo.toml's
# [package.metadata.docs.rs]: every feature, `--cfg docsrs`) passes with the feature marks on
# the gated items. The package holds the library, its documents and licenses, and the examples
# and tests (with their fixtures), and none of the tooling; `cargo publish --dry-run` packages it
# and builds it alone; then, in the unpacked package, with every feature and its own Cargo.lock,
# the tests and examples it ships compile and the doc tests run. (Its tests are the checkout's
# own files, run by ./scripts/test; what they read at run time is in the list checked below.
# Building and running them again here would cost a minute for nothing new.)
#
# The unpacked package builds in this checkout's target directory, so the dependencies are not
# built again. It shares the crate's artifact names with the checkout, so the next `cargo test`
# here rebuilds the crate once.
# Usage: scripts/check_package.sh
set -euo pipefail
cd "$(dirname "$0")/.."

target=$(scripts/target-dir.sh)
# The version, and docs.rs's settings: "all-features" and the rustdoc arguments.
read -r version docsrs_all_features docsrs_rustdoc_args < <(
  cargo metadata --format-version 1 --no-deps | python3 -c '
import json, sys
meta = json.load(sys.stdin)
package = next(p for p in meta["packages"] if p["name"] == "tower-livekit-auth")
docsrs = (package.get("metadata") or {}).get("docs", {}).get("rs", {})
print(package["version"], str(docsrs.get("all-features", False)).lower(),
      " ".join(docsrs.get("rustdoc-args", [])))
')

echo "-- docs.rs: cargo doc --all-features with RUSTDOCFLAGS=\"$docsrs_rustdoc_args\""
if [ "$docsrs_all_features" != true ] || [ "$docsrs_rustdoc_args" != "--cfg docsrs" ]; then
  echo "check_package: Cargo.toml's [package.metadata.docs.rs] must have all-features = true" \
    "and rustdoc-args = [\"--cfg\", \"docsrs\"]" >&2
  exit 1
fi
# docs.rs builds with nightly rustdoc; `#![feature(doc_cfg)]` on this (stable) toolchain needs
# RUSTC_BOOTSTRAP, given to rustdoc alone and for this crate alone: set for cargo, it would
# reach the build scripts that watch it (proc-macro2's) and rebuild them and what depends on
# them, here and in the next plain build. The output replaces the plain `cargo doc` in
# target/doc, so the dependencies are not checked a second time.
mkdir -p "$target/docsrs"
rustdoc_bootstrap="$target/docsrs/rustdoc"
printf '#!/bin/sh\nRUSTC_BOOTSTRAP=tower_livekit_auth exec rustdoc "$@"\n' >"$rustdoc_bootstrap"
chmod +x "$rustdoc_bootstrap"
RUSTDOC="$rustdoc_bootstrap" RUSTDOCFLAGS="$docsrs_rustdoc_args -D warnings" \
  cargo doc --no-deps --all-features --locked
docs="$target/doc/tower_livekit_auth"
if ! grep -q 'Available on <strong>crate feature <code>axum</code></strong> only' \
    "$docs/axum/index.html"; then
  echo "check_package: the docs.rs build does not mark the axum module with its feature:" \
    "#![cfg_attr(docsrs, feature(doc_cfg))] in src/lib.rs and" \
    "#[cfg_attr(docsrs, doc(cfg(feature = \"axum\")))] on the module" >&2
  exit 1
fi
echo "   $(grep -rl 'Available on <strong>crate feature' "$docs" | wc -l) pages show feature marks"

echo "-- the package's files"
# --allow-dirty: this checks what the package holds, it publishes nothing; a local run with
# uncommitted changes packages the working tree.
files=$(cargo package --list --allow-dirty --locked)
status=0
# The last four: files that tests read at run time (a missing one fails no build).
for required in Cargo.toml Cargo.lock README.md CHANGELOG.md SECURITY.md LICENSE-MIT \
    LICENSE-APACHE src/lib.rs examples/axum_server.rs examples/tonic_server.rs \
    examples/webhook_receiver.rs examples/token_endpoint.rs tests/support/mod.rs \
    tests/fixtures/protocol_enums.json tests/fixtures/token_requests/swift.json \
    tests/regressions/README.md tests/regressions/verify-error-text-copied-into-token; do
  if ! grep -qxF "$required" <<<"$files"; then
    echo "check_package: $required is missing from the package: add it to Cargo.toml's include" >&2
    status=1
  fi
done
if stray=$(grep -E '^(interop|fuzz|benches|scripts|lkauth|\.ci|tests/coexist)/|(^|/)node_modules/|(^|/)\.venv/' <<<"$files"); then
  echo "check_package: the package holds tooling that must stay out (Cargo.toml's include):" >&2
  echo "$stray" >&2
  status=1
fi
[ "$status" = 0 ] || exit 1
echo "   $(wc -l <<<"$files") files"

echo "-- cargo publish --dry-run"
cargo publish --dry-run --allow-dirty --locked

echo "-- the unpacked package: its tests and examples compile, its doc tests run (all features)"
(cd "$target/package/tower-livekit-auth-$version" &&
  CARGO_TARGET_DIR="$target" cargo check --all-features --locked --tests --examples &&
  CARGO_TARGET_DIR="$target" cargo test --all-features --locked --doc)
