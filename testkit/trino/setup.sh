#!/usr/bin/env bash
# Installs the Trino server the tests run (`just trino-setup`), once: later runs see it installed
# and return at once.
#
# The version is pom.xml's trino.version (the one pin). Maven fetches io.trino:trino-server (a
# tar.gz) from Maven Central; of it only what a single loopback node with koku's two catalogs
# needs is unpacked: lib/ (the server) and the plugins in $plugins below (hive; postgresql, which
# needs geospatial's Geometry type to start). Plugins share jars through hard links in the
# tarball, so the link targets in other plugin folders are unpacked too and those folders removed
# afterwards.
#
# Into: ${OCP_CACHE:-~/.cache/koku-ocp}/trino-server-<version>/ (about 0.5 GB), finished by a
# `.installed` marker naming the plugins, so an interrupted run, or one with another plugin list,
# starts over. Needs: mvn, tar, and (to run the server,
# not to install it) a JDK 24 or newer, which the testkit finds.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's:.*<trino.version>\(.*\)</trino.version>.*:\1:p' "$here/pom.xml")
[ -n "$version" ] || { echo "trino-setup: no <trino.version> in $here/pom.xml" >&2; exit 1; }
cache=${OCP_CACHE:-$HOME/.cache/koku-ocp}
dest="$cache/trino-server-$version"
plugins="hive postgresql geospatial"

if [ "$(cat "$dest/.installed" 2>/dev/null)" = "$plugins" ]; then
    echo "Trino $version: already installed in $dest"
    exit 0
fi
command -v mvn >/dev/null || {
    echo "trino-setup: Maven (mvn) is needed to fetch Trino $version: install it (Debian: apt-get install maven)" >&2
    exit 1
}

mkdir -p "$cache"
work=$(mktemp -d "$cache/trino-setup.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "Trino $version: fetching io.trino:trino-server:$version:tar.gz with Maven ..."
start=$SECONDS
mvn -B -q -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$work/download"
archive="$work/download/trino-server-$version.tar.gz"
[ -f "$archive" ] || { echo "trino-setup: Maven reported success but $archive is missing" >&2; exit 1; }
echo "  fetched $(du -h "$archive" | cut -f1) in $((SECONDS - start)) s"

top="trino-server-$version"
wanted=("$top/lib")
for plugin in $plugins; do wanted+=("$top/plugin/$plugin"); done
alternatives=$(echo "$plugins" | tr ' ' '|')
# Hard-link targets of the wanted plugins' files that lie outside the wanted folders.
mapfile -t targets < <(tar -tvzf "$archive" \
    | grep -E " $top/plugin/($alternatives)/.* link to " \
    | sed 's/.* link to //' \
    | grep -vE "^$top/(lib|plugin/($alternatives))/" \
    | sort -u)
start=$SECONDS
mkdir -p "$work/unpack"
tar -xzf "$archive" -C "$work/unpack" "${wanted[@]}" "${targets[@]}"
for plugin in "$work/unpack/$top/plugin"/*; do
    case " $plugins " in
        *" $(basename "$plugin") "*) ;;
        *) rm -rf "$plugin" ;;
    esac
done
echo "  unpacked lib/ and plugin/{${plugins// /,}} in $((SECONDS - start)) s"

rm -rf "$dest"
mv "$work/unpack/$top" "$dest"
echo "$plugins" > "$dest/.installed"
echo "Trino $version: installed in $dest ($(du -sh "$dest" | cut -f1))"
