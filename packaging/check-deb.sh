#!/usr/bin/env bash
# Builds the .deb with CPack in BUILD_DIR, unpacks it and checks that it holds both programs, the
# desktop entry, the icon and the AppStream metadata, and that the unpacked `taxon` runs.
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$build"
cpack -G DEB -B "$work/out" > "$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/out/taxon_*.deb)
echo "package: $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | grep -E "Package|Version|Depends"
dpkg-deb -x "$deb" "$work/root"
for f in usr/bin/taxon usr/bin/taxon-studio usr/share/applications/taxon-studio.desktop \
         usr/share/icons/hicolor/scalable/apps/taxon-studio.svg \
         usr/share/metainfo/taxon-studio.metainfo.xml; do
  [[ -e $work/root/$f ]] || { echo "missing from the package: $f"; exit 1; }
  echo "ok $f"
done
desktop-file-validate "$work/root/usr/share/applications/taxon-studio.desktop"
"$work/root/usr/bin/taxon" --version
QT_QPA_PLATFORM=offscreen "$work/root/usr/bin/taxon-studio" --version
