#!/usr/bin/env bash
# Builds the web UI's assets into internal/web/assets/dist, which is
# committed so that building lbm needs no Node.js:
#
#   lbm.css               web/frontend/lbm.scss compiled (GOV.UK Frontend,
#                         system fonts, no GOV.UK branding), compressed
#   govuk-frontend.min.js GOV.UK Frontend's JavaScript, as published
#
# dist/init.js is written by hand and is not touched here.
#
# It also copies axe-core, which the browser tests inject into each page to
# look for WCAG violations, into e2e/testdata/axe, committed so that the
# tests need no Node.js either. lbm never serves it:
#
#   axe.min.js            axe-core, as published
#   LICENSE               axe-core's licence (MPL-2.0)
#   LICENSE-3RD-PARTY.txt the licences of the code axe.min.js bundles
#
# The versions are pinned in web/frontend/package-lock.json and installed
# with `npm ci`, so running this twice gives byte-identical files. After
# changing lbm.scss or upgrading a package, run it and commit dist.
set -euo pipefail
cd "$(dirname "$0")/.."

frontend=web/frontend
dist=internal/web/assets/dist
pkg=$frontend/node_modules/govuk-frontend/dist/govuk
axe=$frontend/node_modules/axe-core
axedist=e2e/testdata/axe

(cd "$frontend" && npm ci --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error)

mkdir -p "$dist"
"$frontend/node_modules/.bin/sass" \
	--load-path="$frontend/node_modules" \
	--style=compressed --no-source-map --quiet-deps \
	"$frontend/lbm.scss" "$dist/lbm.css"

# The published bundle ends with a source map comment; lbm does not serve the
# map, so drop the comment rather than have browsers ask for a missing file.
sed 's|//# sourceMappingURL=[^ ]*$||' \
	"$pkg/govuk-frontend.min.js" >"$dist/govuk-frontend.min.js"

# lbm serves no images or fonts, so the stylesheet must not ask for any: no
# GDS Transport, no crown, no crest.
if grep -q 'url(' "$dist/lbm.css"; then
	echo "build-assets: $dist/lbm.css references external files:" >&2
	grep -o 'url([^)]*)' "$dist/lbm.css" >&2
	exit 1
fi
if grep -qi -e '@font-face' -e 'GDS Transport' -e 'crown' -e 'crest' "$dist/lbm.css"; then
	echo "build-assets: $dist/lbm.css carries GOV.UK fonts or branding" >&2
	exit 1
fi

# As published; the licences travel with the code they cover.
mkdir -p "$axedist"
cp "$axe/axe.min.js" "$axe/LICENSE" "$axe/LICENSE-3RD-PARTY.txt" "$axedist/"

ls -l "$dist" "$axedist"
