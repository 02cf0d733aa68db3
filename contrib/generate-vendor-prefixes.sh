#!/usr/bin/env bash
# Writes Sources/ProvisioningModel/VendorPrefixes+IEEE.swift, the default MAC-prefix → vendor table, from the IEEE
# MA-L registry that Debian ships in the ieee-data package. provhook never reads the registry at run time.
#
# Usage: contrib/generate-vendor-prefixes.sh [path/to/oui.txt]   (default /usr/share/ieee-data/oui.txt)
# VENDOR_PREFIXES_OUTPUT names another output file (the tests use it to check the rules on a small registry).
#
# Selection rules, applied to each MA-L entry's organisation name (case-insensitive, surrounding spaces ignored):
#   snom         ^snom technology
#   yealink      yealink            (both "XIAMEN YEALINK NETWORK…" and "YEALINK(XIAMEN) NETWORK…")
#   poly         ^polycom  or exactly "poly"   (anchored: "LITTON/POLY-SCIENTIFIC" is not Poly)
#   gigaset      ^gigaset           (Gigaset Communications GmbH, Gigaset Digital Technology (Shenzhen))
#   fanvil       ^fanvil
#   panasonic    ^panasonic AND the OUI is one of PANASONIC_PHONE_OUIS: Panasonic holds dozens of OUIs for
#                unrelated businesses, so only its phone business's ones, as the reference lists them, are taken
#   htek         ^htek  or ^hanlong technology   (anchored: "Insightek" is not Htek)
#   akuvox       ^akuvox
#   grandstream  ^grandstream networks
# Then EXTRAS below are added (each with its reason), and the result is checked against REFERENCE, the table of
# shared/reference/provisioning-services.md ("Which vendor a phone is"): a missing or differently mapped OUI fails.
set -euo pipefail
export LC_ALL=C

oui_file=${1:-/usr/share/ieee-data/oui.txt}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
output=${VENDOR_PREFIXES_OUTPUT:-$root/Sources/ProvisioningModel/VendorPrefixes+IEEE.swift}

if [[ ! -r $oui_file ]]; then
    echo "$oui_file is missing: install it with 'apt-get install -y ieee-data'" >&2
    exit 1
fi

readonly PANASONIC_PHONE_OUIS="080023 0080F0 BCC342"

# OUI vendor reason: prefixes the registry's names do not give, or give to another organisation.
readonly EXTRAS="
E0E656 fanvil Nethesis srl; Nethesis-branded Fanvil phones (reference)
00A859 fanvil Fanvil per NethServer/dev#7807 (reference); not in every registry edition
00087B snom RTX Telecom A/S, maker of Snom's DECT bases; a default Snom prefix before
00ACDC gigaset Gigaset IP PRO, a default Snom prefix before; not in the registry (unverified)
"

# OUI vendor: the reference's table. 589EC6 is listed there under Snom too (Snom-based Gigaset IP PRO phones),
# but the OUI is Gigaset's in the registry, so it stays Gigaset; a brand given by the PBX decides such a phone.
readonly REFERENCE="
000413 snom
001565 yealink
805EC0 yealink
805E0C yealink
249AD8 yealink
0004F2 poly
64167F poly
002104 gigaset
589EC6 gigaset
7C2F80 gigaset
14B370 gigaset
0C383E fanvil
00A859 fanvil
E0E656 fanvil
080023 panasonic
0080F0 panasonic
BCC342 panasonic
001FC1 htek
0C1105 akuvox
000B82 grandstream
C074AD grandstream
EC74D7 grandstream
"

# The registry text has no date line; the package records its download time in .lastupdate (Unix seconds).
edition="no .lastupdate beside it"
lastupdate="$(dirname "$oui_file")/.lastupdate"
if [[ -r $lastupdate ]] && stamp=$(date -u -d "@$(tr -d '[:space:]' <"$lastupdate")" '+%Y-%m-%d %H:%M:%S UTC' 2>/dev/null)
then
    edition=".lastupdate $stamp"
fi
package_version=""
if [[ $(cd "$(dirname "$oui_file")" && pwd) == /usr/share/ieee-data ]]; then
    package_version=$(dpkg-query -W -f '${Version}' ieee-data 2>/dev/null || true)
fi
[[ -n $package_version ]] && edition="ieee-data $package_version, $edition"

# "OUI vendor organisation" for each selected registry entry, sorted by OUI.
selected=$(
    awk -v panasonic="$PANASONIC_PHONE_OUIS" '
        BEGIN { n = split(panasonic, list, " "); for (i = 1; i <= n; i++) phone[list[i]] = 1 }
        /^[0-9A-Fa-f][0-9A-Fa-f]-[0-9A-Fa-f][0-9A-Fa-f]-[0-9A-Fa-f][0-9A-Fa-f][ \t]+\(hex\)/ {
            oui = toupper(substr($1, 1, 2) substr($1, 4, 2) substr($1, 7, 2))
            name = $0
            sub(/^[^)]*\)[ \t]*/, "", name); sub(/[ \t\r]+$/, "", name)
            lower = tolower(name)
            vendor = ""
            if (lower ~ /^snom technology/) vendor = "snom"
            else if (lower ~ /yealink/) vendor = "yealink"
            else if (lower ~ /^polycom/ || lower == "poly") vendor = "poly"
            else if (lower ~ /^gigaset/) vendor = "gigaset"
            else if (lower ~ /^fanvil/) vendor = "fanvil"
            else if (lower ~ /^panasonic/ && (oui in phone)) vendor = "panasonic"
            else if (lower ~ /^htek/ || lower ~ /^hanlong technology/) vendor = "htek"
            else if (lower ~ /^akuvox/) vendor = "akuvox"
            else if (lower ~ /^grandstream networks/) vendor = "grandstream"
            if (vendor != "") print oui, vendor, name
        }' "$oui_file" | sort -u -k1,1
)

table=$selected
while read -r oui vendor reason; do
    [[ -z $oui ]] && continue
    if existing=$(grep "^$oui " <<<"$selected"); then
        if [[ $(cut -d' ' -f2 <<<"$existing") != "$vendor" ]]; then
            echo "extra $oui → $vendor conflicts with the registry's selection: $existing" >&2
            exit 1
        fi
        continue
    fi
    table+=$'\n'"$oui $vendor extra: $reason"
done <<<"$EXTRAS"
table=$(sort -k1,1 <<<"$table" | sed '/^$/d')

missing=0
while read -r oui vendor; do
    [[ -z $oui ]] && continue
    if ! grep -q "^$oui $vendor " <<<"$table"; then
        echo "the reference's $oui ($vendor) is not in the table as $vendor" >&2
        missing=1
    fi
done <<<"$REFERENCE"
((missing == 0)) || exit 1

{
    echo "// Generated by contrib/generate-vendor-prefixes.sh from $oui_file"
    echo "// Registry edition: $edition (oui.txt itself has no date line)."
    echo "// Do not edit: change the script's rules and run it again."
    echo
    echo "extension VendorPrefixes {"
    echo "    /// The IEEE MA-L assignments of the known vendors, plus the script's extras, by six uppercase hex digits."
    echo "    static let ieeeAssignments: [String: Vendor] = ["
    while read -r oui vendor name; do
        printf '        "%s": .%s,  // %s\n' "$oui" "$vendor" "$name"
    done <<<"$table"
    echo "    ]"
    echo "}"
} >"$output"

echo "wrote $output: $(wc -l <<<"$table") prefixes from $oui_file ($edition)"
